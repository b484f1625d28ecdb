// Package loopback keeps imds's own clients (verify, audit, fault, event)
// on loopback unless the user asks otherwise: a mistyped or defaulted
// endpoint must never send a request to a real metadata address.
package loopback

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// CheckURL refuses endpoints that are not http(s) URLs and, unless remote
// ones are allowed, any whose host is not "localhost" or a loopback address.
func CheckURL(raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse endpoint: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint %q is not an http or https url", raw)
	}
	host := u.Hostname()
	if allowRemote || strings.EqualFold(host, "localhost") || IsLiteral(host) {
		return nil
	}
	return fmt.Errorf("endpoint %q is not a loopback address (use --allow-remote to override)", raw)
}

// IsLiteral reports whether host is a loopback IP address literal.
func IsLiteral(host string) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// DialControl is a net.Dialer Control hook that refuses every non-loopback
// address. It runs after name resolution, on the address about to be
// dialled, so neither a name that resolves elsewhere nor a redirect can
// carry a request away.
func DialControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if !IsLiteral(host) {
		return fmt.Errorf("dial %s: refusing non-loopback address", address)
	}
	return nil
}
