//go:build !linux

package audit

import "net/netip"

// sockDiagInode is Linux's; elsewhere there is no sock_diag to ask.
func sockDiagInode(client, server netip.AddrPort) (uint64, error) {
	return 0, errNoNetlink
}
