package dataplane

import "net/netip"

// Single is the Directory of a one-instance server: every caller, whatever
// its address, is that instance, as on a laptop or in CI.
type Single struct{ View *View }

// Lookup returns the one view.
func (d Single) Lookup(netip.Addr) *View { return d.View }
