package dev.intervirt.agent.host;

import dev.intervirt.agent.host.netlink.Message;
import dev.intervirt.agent.host.netlink.NfTables;

import java.util.ArrayList;
import java.util.List;

/**
 * The set-element changes of one nf_tables transaction, in order, in both of their forms:
 * nft's text (a script for {@code nft -f}, or part of a larger one) and the kernel's own
 * messages (for an executor that keeps a netlink socket, see {@link NftExecutor#runElements}).
 * Both are built from the same checked values (text and keys by {@link NftValues}), so the two
 * paths cannot drift apart. Order matters: a deletion and a re-addition of the same element
 * (a port moved to its own address) must stay in that order.
 */
final class SetElementChanges {

    private final StringBuilder script = new StringBuilder(256);
    private final List<Message> messages = new ArrayList<>(4);

    /** Adds {@code elements} (nft text each, e.g. {@code "a" . "b"}) with their {@code keys} to the set. */
    SetElementChanges add(int family, String table, String set, List<String> elements, List<byte[]> keys) {
        return change("add", family, table, set, elements, keys);
    }

    /** Deletes them; one that is not in the set fails the whole transaction. */
    SetElementChanges delete(int family, String table, String set, List<String> elements, List<byte[]> keys) {
        return change("delete", family, table, set, elements, keys);
    }

    private SetElementChanges change(String verb, int family, String table, String set, List<String> elements,
                                     List<byte[]> keys) {
        if (elements.isEmpty() || elements.size() != keys.size()) {
            throw new IllegalArgumentException("one key per element: " + elements.size() + " elements, " + keys.size() + " keys");
        }
        script.append(verb).append(" element ").append(family == NfTables.BRIDGE ? "bridge" : "inet").append(' ')
                .append(table).append(' ').append(set).append(" { ").append(String.join(", ", elements)).append(" }\n");
        messages.add(verb.equals("add") ? NfTables.addElements(family, table, set, keys)
                : NfTables.deleteElements(family, table, set, keys));
        return this;
    }

    /** These changes followed by {@code later}'s, in one transaction. */
    SetElementChanges append(SetElementChanges later) {
        script.append(later.script);
        messages.addAll(later.messages);
        return this;
    }

    boolean isEmpty() {
        return messages.isEmpty();
    }

    /** The nft text: one {@code add element} or {@code delete element} line per change. */
    String script() {
        return script.toString();
    }

    /** The kernel's messages, one per change (without the transaction's begin and end). */
    List<Message> messages() {
        return List.copyOf(messages);
    }
}
