package dev.intervirt.agent.app;

import java.util.concurrent.CountDownLatch;

/** {@code java -jar intervirt-agent.jar [options]}: starts the agent and serves until stopped. */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("--smoke-test")) {
            // prepare's last step: the host runs containers through the agent's own code path.
            LogSetup.configure(false);
            java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
            String images = System.getenv("INTERVIRT_IMAGE_DIR");
            System.exit(SmokeTest.run(images == null || images.isBlank() ? AgentConfig.defaults().imageDir() : java.nio.file.Path.of(images)));
            return;
        }
        AgentConfig config;
        try {
            config = ConfigParser.parse(args, System.getenv());
        } catch (ConfigParser.UsageException e) {
            System.err.println("intervirt-agent: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (config == null) {
            System.out.print(ConfigParser.HELP);
            System.exit(0);
            return;
        }
        LogSetup.configure(config.debug());
        AgentServer server = new AgentServer(config);
        try {
            server.start();
        } catch (AgentServer.StartupException e) {
            System.err.println("intervirt-agent: " + e.getMessage());
            server.stop();
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // Containers keep running: the agent's stop is not the guest's.
            server.stop();
            stopped.countDown();
        }, "shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
