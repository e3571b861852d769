package dev.intervirt.agent.host.netlink;

import java.util.ArrayList;
import java.util.List;

/**
 * nf_tables set-element changes as nfnetlink messages ({@code linux/netfilter/nfnetlink.h},
 * {@code linux/netfilter/nf_tables.h}), the same bytes {@code nft} sends for
 * {@code add element} and {@code delete element}, without its cache: nft asks the kernel for the
 * generation, tables, chains, objects and sets (six round trips) before every batch, the agent
 * already knows its sets. Keys are given in the kernel's form (see {@code NftValues}).
 */
public final class NfTables {

    /** nf_tables families ({@code NFPROTO_*}). */
    public static final int INET = 1;
    public static final int BRIDGE = 7;

    private static final int NFNL_SUBSYS_NFTABLES = 10;
    private static final int NFNL_MSG_BATCH_BEGIN = 16;
    private static final int NFNL_MSG_BATCH_END = 17;
    private static final int NFT_MSG_NEWSETELEM = 12;
    private static final int NFT_MSG_DELSETELEM = 14;
    private static final int NFTA_SET_ELEM_LIST_TABLE = 1;
    private static final int NFTA_SET_ELEM_LIST_SET = 2;
    private static final int NFTA_SET_ELEM_LIST_ELEMENTS = 3;
    private static final int NFTA_LIST_ELEM = 1;
    private static final int NFTA_SET_ELEM_KEY = 1;
    private static final int NFTA_DATA_VALUE = 1;

    /** Messages are immutable (the sequence number goes into the send buffer), so the markers are made once. */
    private static final Message BATCH_BEGIN = marker(NFNL_MSG_BATCH_BEGIN);
    private static final Message BATCH_END = marker(NFNL_MSG_BATCH_END);

    private NfTables() {
    }

    /**
     * One transaction: the changes between the batch's begin and end markers. The kernel applies
     * all of them or none; each change is acknowledged.
     */
    public static List<Message> transaction(List<Message> changes) {
        List<Message> all = new ArrayList<>(changes.size() + 2);
        all.add(BATCH_BEGIN);
        all.addAll(changes);
        all.add(BATCH_END);
        return all;
    }

    /** Adds the keys to the set; a key already there stays (no error, as {@code nft add element}). */
    public static Message addElements(int family, String table, String set, List<byte[]> keys) {
        return elements(NFT_MSG_NEWSETELEM, Rtnl.NLM_F_CREATE, family, table, set, keys, "add element");
    }

    /** Deletes the keys from the set; a key that is not there fails the whole transaction. */
    public static Message deleteElements(int family, String table, String set, List<byte[]> keys) {
        return elements(NFT_MSG_DELSETELEM, 0, family, table, set, keys, "delete element");
    }

    private static Message elements(int type, int flags, int family, String table, String set, List<byte[]> keys,
                                    String verb) {
        int capacity = 64 + table.length() + set.length() + keys.stream().mapToInt(k -> 16 + k.length).sum();
        Message.Builder m = new Message.Builder(NFNL_SUBSYS_NFTABLES << 8 | type,
                Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_ACK | flags, capacity);
        nfgenmsg(m, family, 0);
        m.attrString(NFTA_SET_ELEM_LIST_TABLE, table);
        m.attrString(NFTA_SET_ELEM_LIST_SET, set);
        int list = m.begin(NFTA_SET_ELEM_LIST_ELEMENTS);
        for (byte[] key : keys) {
            int element = m.begin(NFTA_LIST_ELEM);
            int keyAttr = m.begin(NFTA_SET_ELEM_KEY);
            m.attr(NFTA_DATA_VALUE, key);
            m.end(keyAttr).end(element);
        }
        m.end(list);
        return m.build(() -> verb + " " + familyName(family) + " " + table + " " + set);
    }

    private static Message marker(int type) {
        Message.Builder m = new Message.Builder(type, Rtnl.NLM_F_REQUEST, 20);
        nfgenmsg(m, 0, NFNL_SUBSYS_NFTABLES);
        return m.build("nf_tables transaction");
    }

    /** {@code struct nfgenmsg}: family, version 0, resource id (big-endian). */
    private static void nfgenmsg(Message.Builder m, int family, int resourceId) {
        m.u8(family).u8(0).u16BigEndian(resourceId);
    }

    private static String familyName(int family) {
        return switch (family) {
            case INET -> "inet";
            case BRIDGE -> "bridge";
            default -> "family " + family;
        };
    }
}
