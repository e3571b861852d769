package dev.intervirt.agent.image;

import dev.intervirt.agent.value.ImageName;

/** A place images come from when the local store does not have them. */
public interface ImageSource {

    /** What the source is, for log lines and error messages. */
    String describe();

    /**
     * Whether the source may have the image, answered without waiting on the network:
     * {@code false} only when it certainly does not.
     */
    boolean mayHave(ImageName name);

    /**
     * Puts the image into the store. Returns {@code false} when the source does not have it;
     * throws {@link ImageSourceException} when it has it but could not deliver.
     */
    boolean provide(ImageName name);
}
