package dev.intervirt.agent.ssh;

import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.auth.AbstractUserAuth;
import org.apache.sshd.server.auth.AbstractUserAuthFactory;
import org.apache.sshd.server.auth.UserAuth;
import org.apache.sshd.server.session.ServerSession;

/**
 * The SSH {@code none} method, for {@code root} only: the desktop client logs in with no
 * identity and no password (OpenSSH accepts that for root with an empty password and
 * {@code PermitEmptyPasswords yes}). MINA's own {@code UserAuthNone} accepts every user name.
 */
final class RootOnlyNoneAuth extends AbstractUserAuthFactory {

    static final RootOnlyNoneAuth INSTANCE = new RootOnlyNoneAuth();

    private RootOnlyNoneAuth() {
        super("none");
    }

    @Override
    public UserAuth createUserAuth(ServerSession session) {
        return new AbstractUserAuth("none") {
            @Override
            protected Boolean doAuth(Buffer buffer, boolean init) {
                return "root".equals(getUsername());
            }
        };
    }
}
