package dev.intervirt.agent.image;

/** An image source could not deliver an image; the message says why, for the log and the client. */
public class ImageSourceException extends RuntimeException {

    public ImageSourceException(String message) {
        super(message);
    }

    public ImageSourceException(String message, Throwable cause) {
        super(message, cause);
    }
}
