package dev.intervirt.agent.state;

import dev.intervirt.agent.protocol.AgentException;
import dev.intervirt.agent.protocol.ErrorCode;
import dev.intervirt.agent.protocol.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Keeps the topology durable in {@code <state-dir>/topology.json}: written to a temporary file,
 * flushed to disk, then renamed over the old one, so a crash leaves either the old or the new
 * state, never a torn one. A request is acknowledged only after its save returned.
 */
public class StateStore {

    private final Path file;
    private final Path temp;

    public StateStore(Path stateDir) {
        this.file = stateDir.resolve("topology.json");
        this.temp = stateDir.resolve("topology.json.tmp");
    }

    public Path file() {
        return file;
    }

    public StoredTopology load() {
        if (!Files.exists(file)) {
            return StoredTopology.empty();
        }
        try {
            return Json.jsonb().fromJson(Files.readString(file), StoredTopology.class);
        } catch (IOException | RuntimeException e) {
            throw new AgentException(ErrorCode.GUEST, "Cannot read the stored topology " + file + ": " + e.getMessage(), e);
        }
    }

    public void save(StoredTopology topology) {
        byte[] bytes = TopologyJson.write(topology).getBytes(StandardCharsets.UTF_8);
        try {
            Files.createDirectories(file.getParent());
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
                dir.force(true);
            }
        } catch (IOException e) {
            throw new AgentException(ErrorCode.GUEST, "Cannot save the topology to " + file + ": " + e.getMessage(), e);
        }
    }
}
