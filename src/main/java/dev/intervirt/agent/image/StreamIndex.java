package dev.intervirt.agent.image;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

import java.io.StringReader;

/** The simplestreams index ({@code streams/v1/index.json}): where the product list is. */
public final class StreamIndex {

    private StreamIndex() {
    }

    /** The path of the {@code image-downloads} product list ({@code streams/v1/images.json}). */
    public static String imagesPath(String indexJson) {
        JsonObject index = parse(indexJson, "index.json").getJsonObject("index");
        if (index == null) {
            throw new ImageSourceException("index.json has no \"index\" object");
        }
        for (JsonValue entry : index.values()) {
            if (entry instanceof JsonObject o && "image-downloads".equals(o.getString("datatype", ""))
                    && !o.getString("path", "").isEmpty()) {
                return o.getString("path");
            }
        }
        throw new ImageSourceException("index.json lists no image-downloads product list");
    }

    static JsonObject parse(String json, String what) {
        try (var reader = Json.createReader(new StringReader(json))) {
            return reader.readObject();
        } catch (RuntimeException e) {
            throw new ImageSourceException(what + " is not a JSON object: " + e.getMessage());
        }
    }
}
