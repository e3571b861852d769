package dev.intervirt.agent.dispatch;

import dev.intervirt.agent.protocol.Reply;

/** Sends the replies of one request (the endpoint's implementation knows session and refID). */
public interface Replier {

    /** Sends one message; a closed connection drops it silently. */
    void send(Reply reply);
}
