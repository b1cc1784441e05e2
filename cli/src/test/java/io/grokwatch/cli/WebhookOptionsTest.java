package io.grokwatch.cli;

import io.grokwatch.notify.WebhookConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --webhook-url}/{@code --webhook-secret}, their environment variables, errors and help. */
class WebhookOptionsTest {
    private static WebhookOptions parse(Map<String, String> env, String... args) {
        WebhookOptions o = new WebhookOptions();
        new CommandLine(o).parseArgs(args);
        o.env = env::get;
        return o;
    }

    @Test
    void urlsFromRepeatedFlagsOrElseFromTheEnvironment() {
        Map<String, String> env = Map.of("GROKWATCH_WEBHOOK_URLS", "http://env-a/x, http://env-b/y",
                "GROKWATCH_WEBHOOK_SECRET", "from-env");
        WebhookConfig flags = parse(env, "--webhook-url", "http://a:9000/hook", "--webhook-url", "https://b/h",
                "--webhook-secret", "s").config();
        assertEquals(List.of(URI.create("http://a:9000/hook"), URI.create("https://b/h")), flags.urls());
        assertEquals("s", flags.secret());
        WebhookConfig fromEnv = parse(env).config();
        assertEquals(List.of(URI.create("http://env-a/x"), URI.create("http://env-b/y")), fromEnv.urls());
        assertEquals("from-env", fromEnv.secret());
        assertEquals("from-env", parse(env, "--webhook-url", "http://a/").config().secret());
        assertNull(parse(Map.of("GROKWATCH_WEBHOOK_SECRET", "")).config(), "no receiver, no dispatcher");
        assertEquals(List.of("new", "old"), parse(env, "--webhook-secret", "new", "--webhook-secret", "old").config()
                .secrets(), "a rotation: both sign");
        assertEquals(List.of("a", "b"), parse(Map.of("GROKWATCH_WEBHOOK_URLS", "http://a/",
                "GROKWATCH_WEBHOOK_SECRET", "a b")).config().secrets());
        assertNull(parse(Map.of("GROKWATCH_WEBHOOK_URLS", "http://a/", "GROKWATCH_WEBHOOK_SECRET", "")).config()
                .secret(), "an empty variable means unsigned");
    }

    @Test
    void errorsNameTheFlagOrTheVariable() {
        IllegalArgumentException flag = assertThrows(IllegalArgumentException.class,
                () -> parse(Map.of(), "--webhook-url", "ftp://a/").config());
        assertEquals("--webhook-url: a URL with scheme 'ftp'; allowed: http:// or https:// URLs with a host",
                flag.getMessage());
        IllegalArgumentException env = assertThrows(IllegalArgumentException.class,
                () -> parse(Map.of("GROKWATCH_WEBHOOK_URLS", "localhost")).config());
        assertEquals("GROKWATCH_WEBHOOK_URLS: a URL without a scheme; allowed: http:// or https:// URLs with a host",
                env.getMessage());
        IllegalArgumentException secret = assertThrows(IllegalArgumentException.class,
                () -> parse(Map.of(), "--webhook-url", "http://a/", "--webhook-secret", "").config());
        assertTrue(secret.getMessage().startsWith("--webhook-secret: '' is not allowed"), secret.getMessage());
    }

    @Test
    void aBadUrlIsAOneLineErrorBeforeAnythingStarts() {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("analyze", "--bootstrap-servers", "127.0.0.1:1", "--webhook-url", "mailto:x@y");
        assertEquals(2, code);
        assertEquals("error: --webhook-url: a URL with scheme 'mailto'; allowed: http:// or https:// URLs with a host",
                err.toString().strip());
    }

    @Test
    void helpDocumentsFlagsAndVariables() {
        for (String command : List.of("analyze", "demo")) {
            StringWriter out = new StringWriter();
            CommandLine cl = Main.commandLine();
            cl.setOut(new PrintWriter(out));
            assertEquals(0, cl.execute(command, "--help"));
            String help = out.toString().replaceAll("\\s+", " ");
            for (String s : List.of("--webhook-url=URL", "--webhook-secret=SECRET", "$GROKWATCH_WEBHOOK_URLS",
                    "$GROKWATCH_WEBHOOK_SECRET", "webhook-signature", "Alertmanager")) {
                assertTrue(help.contains(s), command + " --help mentions " + s + ": " + help);
            }
        }
        StringWriter out = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("webhook-receiver", "--help"));
        assertTrue(out.toString().contains("--secret=SECRET"), out.toString());
    }
}
