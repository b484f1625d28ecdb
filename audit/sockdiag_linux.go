package audit

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Sizes and offsets of the sock_diag messages (linux/netlink.h,
// linux/inet_diag.h). x/sys/unix has the constants but not these structs.
const (
	nlHeaderLen   = unix.SizeofNlMsghdr // struct nlmsghdr
	diagReqLen    = 56                  // struct inet_diag_req_v2
	diagMsgLen    = 72                  // struct inet_diag_msg
	diagIDOffset  = 4                   // of the inet_diag_sockid in a reply
	diagMsgInode  = 68                  // of idiag_inode in a reply
	diagReqID     = 8                   // of the inet_diag_sockid in a request
	diagSockIDLen = 48
)

// liveStates are the TCP states of a socket some process may still hold,
// as the bit mask inet_diag_req_v2.idiag_states takes. TIME_WAIT is left
// out: nobody owns such a socket any more.
const liveStates = 1<<unix.BPF_TCP_ESTABLISHED | 1<<unix.BPF_TCP_SYN_SENT |
	1<<unix.BPF_TCP_FIN_WAIT1 | 1<<unix.BPF_TCP_FIN_WAIT2 | 1<<unix.BPF_TCP_CLOSE_WAIT |
	1<<unix.BPF_TCP_LAST_ACK | 1<<unix.BPF_TCP_CLOSING

// sockDiagInode asks the kernel, over a NETLINK_SOCK_DIAG socket, for the
// one TCP socket whose local end is client and remote end is server, and
// returns its inode. The kernel answers from its socket hash in constant
// time, where printing /proc/net/tcp walks every socket of every network
// namespace. An IPv4 query also finds an IPv6 socket carrying IPv4, as the
// kernel keeps both in one table.
//
// It fails with errNoNetlink when the query cannot be made at all, and
// with errNoSocket when the kernel knows no live socket with these ends.
func sockDiagInode(client, server netip.AddrPort) (uint64, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errNoNetlink, err)
	}
	defer unix.Close(fd)

	var req [nlHeaderLen + diagReqLen]byte
	putDiagRequest(req[:], client, server)
	if _, err := unix.Write(fd, req[:]); err != nil {
		return 0, fmt.Errorf("%w: send: %w", errNoNetlink, err)
	}
	// The kernel answers a single-socket query while handling the send,
	// so the reply is already queued: the non-blocking read cannot wait.
	var buf [1024]byte
	n, err := unix.Read(fd, buf[:])
	if err != nil {
		return 0, fmt.Errorf("%w: receive: %w", errNoNetlink, err)
	}
	return parseDiagReply(buf[:n], client, server)
}

// putDiagRequest writes into b a netlink message asking for the TCP socket
// from client to server: the exact ends go in the request's socket id,
// which makes the kernel look the socket up instead of dumping them all.
func putDiagRequest(b []byte, client, server netip.AddrPort) {
	ne, be := binary.NativeEndian, binary.BigEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(b[8:], 1) // sequence number; the socket serves one query
	ne.PutUint32(b[12:], 0)

	r := b[nlHeaderLen:]
	family := byte(unix.AF_INET6)
	if client.Addr().Unmap().Is4() && server.Addr().Unmap().Is4() {
		family = unix.AF_INET
	}
	r[0] = family
	r[1] = unix.IPPROTO_TCP
	r[2], r[3] = 0, 0 // no extensions, padding
	ne.PutUint32(r[4:], liveStates)

	id := r[diagReqID : diagReqID+diagSockIDLen]
	be.PutUint16(id[0:], client.Port())
	be.PutUint16(id[2:], server.Port())
	putDiagAddr(id[4:20], client.Addr(), family)
	putDiagAddr(id[20:36], server.Addr(), family)
	ne.PutUint32(id[36:], 0)          // any interface
	ne.PutUint32(id[40:], 0xffffffff) // INET_DIAG_NOCOOKIE: any socket
	ne.PutUint32(id[44:], 0xffffffff)
}

// putDiagAddr writes a in the 16 bytes of an idiag_src or idiag_dst: an
// IPv4 address in the first four, an IPv6 one in all of them.
func putDiagAddr(b []byte, a netip.Addr, family byte) {
	clear(b)
	if family == unix.AF_INET {
		v4 := a.Unmap().As4()
		copy(b, v4[:])
		return
	}
	v6 := a.As16()
	copy(b, v6[:])
}

// parseDiagReply reads the kernel's answer to putDiagRequest: one
// inet_diag_msg, or an error message.
func parseDiagReply(b []byte, client, server netip.AddrPort) (uint64, error) {
	ne := binary.NativeEndian
	if len(b) < nlHeaderLen {
		return 0, fmt.Errorf("%w: short reply of %d bytes", errNoNetlink, len(b))
	}
	body := b[nlHeaderLen:min(len(b), max(nlHeaderLen, int(ne.Uint32(b[0:]))))]
	switch ne.Uint16(b[4:]) {
	case unix.NLMSG_ERROR:
		if len(body) < 4 {
			return 0, fmt.Errorf("%w: short error reply", errNoNetlink)
		}
		errno := unix.Errno(-int32(ne.Uint32(body)))
		if errno == unix.ENOENT {
			return 0, errNoSocket
		}
		return 0, fmt.Errorf("%w: %w", errNoNetlink, errno)
	case unix.SOCK_DIAG_BY_FAMILY:
	default:
		return 0, fmt.Errorf("%w: reply of type %d", errNoNetlink, ne.Uint16(b[4:]))
	}
	if len(body) < diagMsgLen {
		return 0, fmt.Errorf("%w: short reply", errNoNetlink)
	}
	// Without a socket of these ends, the kernel falls back to a listener
	// on the client's port: the ends tell it apart.
	local, remote, ok := diagEnds(body[0], body[diagIDOffset:diagIDOffset+diagSockIDLen])
	if !ok || !sameEnd(local, client) || !sameEnd(remote, server) {
		return 0, errNoSocket
	}
	inode := uint64(ne.Uint32(body[diagMsgInode:]))
	if inode == 0 { // TIME_WAIT, no longer anyone's
		return 0, errNoSocket
	}
	return inode, nil
}

// diagEnds decodes the local and remote ends of an inet_diag_sockid of a
// socket of the given family.
func diagEnds(family byte, id []byte) (local, remote netip.AddrPort, ok bool) {
	be := binary.BigEndian
	var src, dst netip.Addr
	switch family {
	case unix.AF_INET:
		src, dst = netip.AddrFrom4([4]byte(id[4:8])), netip.AddrFrom4([4]byte(id[20:24]))
	case unix.AF_INET6:
		src, dst = netip.AddrFrom16([16]byte(id[4:20])), netip.AddrFrom16([16]byte(id[20:36]))
	default:
		return local, remote, false
	}
	return netip.AddrPortFrom(src, be.Uint16(id[0:])), netip.AddrPortFrom(dst, be.Uint16(id[2:])), true
}
