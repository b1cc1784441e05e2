package io.grokwatch.cli;

import java.io.OutputStream;

/** Writes to two streams: the console and a buffer a test reads back. */
final class Tee extends OutputStream {
    private final OutputStream a;
    private final OutputStream b;

    Tee(OutputStream a, OutputStream b) {
        this.a = a;
        this.b = b;
    }

    @Override
    public void write(int c) throws java.io.IOException {
        a.write(c);
        b.write(c);
    }

    @Override
    public void write(byte[] buf, int off, int len) throws java.io.IOException {
        a.write(buf, off, len);
        b.write(buf, off, len);
    }

    @Override
    public void flush() throws java.io.IOException {
        a.flush();
        b.flush();
    }
}
