package dev.intervirt.agent.war;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Payara Micro 6 as an operator starts it: its own JVM, {@code --deploy} of the built WAR at the
 * root context, the agent's INTERVIRT_* settings as system properties of that JVM. Its console
 * goes to a log file the test reads.
 */
final class PayaraMicro implements AutoCloseable {

    /** Printed once the runtime has deployed what it was given and serves HTTP. */
    private static final String READY = "Payara Micro URLs:";

    private final Process process;
    private final Path log;

    private PayaraMicro(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static PayaraMicro start(int port, Map<String, String> settings, Path workDir) throws IOException {
        Path jar = Path.of(System.getProperty("intervirt.test.payaraMicro", "target/payara/payara-micro.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("Payara Micro is not at " + jar + " (the build copies it in pre-integration-test)");
        }
        Files.createDirectories(workDir);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.net.preferIPv4Stack=true"));
        settings.forEach((name, value) -> command.add("-D" + name + "=" + value));
        command.addAll(List.of("-jar", jar.toString(), "--nocluster", "--port", Integer.toString(port),
                "--contextroot", "/", "--rootdir", workDir.resolve("root").toString(),
                "--deploy", WarScenarios.warFile().getAbsolutePath()));
        Path log = workDir.resolve("payara-micro.log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new PayaraMicro(process, log);
    }

    /** Waits until the runtime says it is ready (true) or has ended or the time is over (false). */
    boolean awaitReady(long seconds) throws InterruptedException {
        return await(seconds, () -> log().contains(READY));
    }

    String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    Path logFile() {
        return log;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    private boolean await(long seconds, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (!process.isAlive()) {
                return condition.getAsBoolean();
            }
            Thread.sleep(250);
        }
        return false;
    }

    /** SIGTERM, as a service manager stops it: the runtime undeploys the WAR, which stops the agent. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
