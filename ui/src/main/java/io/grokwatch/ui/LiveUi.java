package io.grokwatch.ui;

import io.grokwatch.kafka.Topics;

/**
 * The live page of a running pipeline: a {@link TopicFeed} filling a {@link RunStore} and a {@link LivePage} serving
 * it. Closing it stops both.
 */
public final class LiveUi implements AutoCloseable {
    private final RunStore store;
    private final TopicFeed feed;
    private final LivePage page;

    private LiveUi(RunStore store, TopicFeed feed, LivePage page) {
        this.store = store;
        this.feed = feed;
        this.page = page;
    }

    /** Binds the page first (a port in use fails before any consumer starts), then starts reading the topics. */
    public static LiveUi start(String bootstrapServers, Topics topics, String host, int port) {
        RunStore store = new RunStore();
        LivePage page = LivePage.start(host, port, store);
        try {
            return new LiveUi(store, TopicFeed.start(bootstrapServers, topics, store), page);
        } catch (RuntimeException e) {
            page.close();
            throw e;
        }
    }

    public String url() {
        return page.url();
    }

    public int port() {
        return page.port();
    }

    public RunStore store() {
        return store;
    }

    @Override
    public void close() {
        try {
            page.close();
        } finally {
            feed.close();
        }
    }
}
