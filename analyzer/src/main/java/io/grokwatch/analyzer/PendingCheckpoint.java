package io.grokwatch.analyzer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A checkpoint that passed the cheap checks and waits for its analysis, with how many older checkpoints of the run it
 * superseded while they waited ({@link Backlog#LATEST}). Stored per run in the changelogged pending store, so a
 * restart loses none.
 */
record PendingCheckpoint(ReceivedRecord record, long step, int superseded) {
    private static final int VERSION = 1;

    /** This checkpoint in place of {@code older}, counting it and whatever it had superseded. */
    PendingCheckpoint superseding(PendingCheckpoint older) {
        return new PendingCheckpoint(record, step, superseded + older.superseded + 1);
    }

    byte[] encode() {
        byte[] value = record.value();
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(value.length + 128);
        try (DataOutputStream out = new DataOutputStream(buffer)) {
            out.writeInt(VERSION);
            out.writeUTF(record.key());
            out.writeLong(record.timestampMs());
            out.writeUTF(record.topic());
            out.writeInt(record.partition());
            out.writeLong(record.offset());
            out.writeLong(step);
            out.writeInt(superseded);
            out.writeInt(value.length);
            out.write(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buffer.toByteArray();
    }

    /** The stored form back; null for null. */
    static PendingCheckpoint decode(byte[] stored) {
        if (stored == null) {
            return null;
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(stored))) {
            int version = in.readInt();
            if (version != VERSION) {
                throw new IllegalStateException("the pending-checkpoint store holds format version " + version
                        + "; this analyzer reads version " + VERSION);
            }
            String key = in.readUTF();
            long timestamp = in.readLong();
            String topic = in.readUTF();
            int partition = in.readInt();
            long offset = in.readLong();
            long step = in.readLong();
            int superseded = in.readInt();
            byte[] value = new byte[in.readInt()];
            in.readFully(value);
            return new PendingCheckpoint(new ReceivedRecord(key, value, timestamp, topic, partition, offset), step,
                    superseded);
        } catch (IOException e) {
            throw new IllegalStateException("the pending-checkpoint store holds an unreadable entry", e);
        }
    }
}
