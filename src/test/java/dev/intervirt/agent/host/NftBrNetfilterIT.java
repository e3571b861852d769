package dev.intervirt.agent.host;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The whole {@link NftFirewallIT} suite again, with the br_netfilter trap armed in the guest
 * namespace ({@code net.bridge.bridge-nf-call-iptables=1}, the default wherever br_netfilter is
 * loaded, as on these machines): bridged frames then also traverse the inet forward hook with
 * iif = oif = the bridge. NftFirewall marks the frames it accepted between linked ports
 * ({@link NftFirewall#BRIDGED_MARK}) so that its "no routed bridge→bridge traffic" rule lets
 * them pass; everything else must behave exactly as without br_netfilter. Here the set elements
 * go as nft text (the parent sends them as nfnetlink messages). The sysctl is per
 * network namespace, so the machine's own setting is not touched.
 */
class NftBrNetfilterIT extends NftFirewallIT {

    @Override
    String id() {
        return "8";
    }

    @Override
    boolean brNetfilter() {
        return true;
    }

    /** Every element change as nft text: the path of an executor without a netlink socket. */
    @Override
    NftExecutor executor() {
        return NftExecutor.withPrefix(inGuest);
    }

    @Test
    @Order(50)
    void theTrapIsArmedAndTheMarkIsWhatDisarmsIt() {
        assertEquals("1", guest("sysctl", "-n", "net.bridge.bridge-nf-call-iptables").strip());
        firewall.link(A.port(), B.port());
        reachable(ping(A, B.ip4()), ping(A, B.ip6()));
        // without the mark rule, br_netfilter kills the linked pair: the rule is what makes it work
        String listing = guest("nft", "-a", "list", "chain", "inet", table, "routed_from_containers");
        String handle = listing.lines().filter(l -> l.contains("meta mark"))
                .map(l -> l.replaceAll(".*# handle (\\d+).*", "$1")).findFirst().orElseThrow();
        guest("nft", "delete", "rule", "inet", table, "routed_from_containers", "handle", handle);
        try {
            unreachable(ping(A, B.ip4()), ping(A, B.ip6()));
        } finally {
            firewall.install();
        }
        reachable(ping(A, B.ip4()), ping(A, B.ip6()));
    }
}
