package dev.intervirt.agent.host.netlink;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** The few libc calls the netlink layer needs; failures throw {@link LastErrorException} with errno. */
interface LibC extends Library {

    LibC INSTANCE = Native.load("c", LibC.class);

    int AF_NETLINK = 16;
    int SOCK_RAW = 3;
    int NETLINK_ROUTE = 0;
    int NETLINK_NETFILTER = 12;
    /** Same value on x86_64 and aarch64 (octal 02000000), as {@link #O_CLOEXEC}. */
    int SOCK_CLOEXEC = 0x80000;
    int O_RDONLY = 0;
    int O_CLOEXEC = 0x80000;
    int CLONE_NEWNET = 0x40000000;
    int SOL_SOCKET = 1;
    int SO_RCVTIMEO = 20;
    int SOL_NETLINK = 270;
    int NETLINK_EXT_ACK = 11;

    int socket(int domain, int type, int protocol) throws LastErrorException;

    int bind(int fd, Pointer address, int length) throws LastErrorException;

    int setsockopt(int fd, int level, int option, Pointer value, int length) throws LastErrorException;

    long send(int fd, Pointer buffer, long length, int flags) throws LastErrorException;

    long recv(int fd, Pointer buffer, long length, int flags) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    int open(String path, int flags) throws LastErrorException;

    int setns(int fd, int nstype) throws LastErrorException;

    String strerror(int errno);
}
