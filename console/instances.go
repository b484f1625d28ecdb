package console

import (
	"cmp"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/audit"
)

// instancesPage is what the instances template shows.
type instancesPage struct {
	Rows  []instanceRow
	Total int
	First int    // 1-based position of the first row shown
	Last  int    // 1-based position of the last row shown
	Next  string // the id to continue after, or empty on the last page
}

// instanceRow is one instance in the table.
type instanceRow struct {
	ID, Name, State string
	Private, Public []string
	IPv6            []string
	Options         imds.MetadataOptions
	Used            bool // any token-less request was seen
	Served, Refused uint64
	LastSeen        time.Time
	Caller          *caller // the busiest local caller, if one was found
	CallerNote      string  // otherwise why there is none
}

// caller is a local process that called without a token, as the table
// shows it: the program's name, its pid, its arguments cut short, and the
// whole command line for the cell's title.
type caller struct {
	Program string
	PID     int
	Args    string
	Command string
	Count   uint64
}

// serveInstances shows one page of instances, ordered by id, with their
// metadata options and IMDSv1 usage. ?after=ID continues after that id.
func (c *console) serveInstances(w http.ResponseWriter, r *http.Request) {
	id, s, ok := c.signedIn(w, r)
	if !ok {
		return
	}
	all, err := c.store.List(r.Context())
	if err != nil {
		c.log.Warn("console cannot list instances", "err", err)
		c.renderError(w, r, http.StatusServiceUnavailable, "Unavailable", "The instance store cannot be read right now. Try again shortly.")
		return
	}
	slices.SortFunc(all, func(a, b *imds.Instance) int { return cmp.Compare(a.ID, b.ID) })

	start := 0
	if after := r.URL.Query().Get("after"); after != "" {
		i, found := slices.BinarySearchFunc(all, after, func(in *imds.Instance, id string) int {
			return cmp.Compare(in.ID, id)
		})
		if found {
			i++
		}
		start = i
	}
	end := min(start+c.pageSize, len(all))
	usage := usageByID(c.usage())
	p := instancesPage{Total: len(all), First: start + 1, Last: end}
	for _, in := range all[start:end] {
		p.Rows = append(p.Rows, rowOf(in, usage[in.ID]))
	}
	if end < len(all) {
		p.Next = all[end-1].ID
	}
	c.render(w, r, http.StatusOK, "instances", c.pageFor(id, s, "Instances", p))
}

func usageByID(rep audit.Report) map[string]audit.InstanceUsage {
	m := make(map[string]audit.InstanceUsage, len(rep.Instances))
	for _, u := range rep.Instances {
		m[u.InstanceID] = u
	}
	return m
}

func rowOf(in *imds.Instance, u audit.InstanceUsage) instanceRow {
	row := instanceRow{
		ID:       in.ID,
		State:    cmp.Or(in.State, "running"),
		Options:  in.Options,
		Used:     u.Served+u.Refused > 0,
		Served:   u.Served,
		Refused:  u.Refused,
		LastSeen: u.LastSeen,
	}
	for _, t := range in.Tags {
		if t.Key == "Name" {
			row.Name = t.Value
		}
	}
	for _, ni := range in.Interfaces {
		row.Private = appendAddrs(row.Private, ni.PrivateIPv4s)
		row.Public = appendAddrs(row.Public, ni.PublicIPv4s)
		row.IPv6 = appendAddrs(row.IPv6, ni.IPv6s)
	}
	switch {
	case len(u.Callers) > 0:
		top := u.Callers[0]
		prog, args, _ := strings.Cut(top.Command, " ")
		row.Caller = &caller{
			Program: path.Base(prog),
			PID:     top.PID,
			Args:    shorten(args, 36),
			Command: top.Command,
			Count:   top.Requests,
		}
	case u.Unattributed > 0:
		row.CallerNote = fmt.Sprintf("on this host, process not found (%d)", u.Unattributed)
	case row.Used:
		row.CallerNote = "not on this host"
	}
	return row
}

func appendAddrs[A fmt.Stringer](dst []string, addrs []A) []string {
	for _, a := range addrs {
		dst = append(dst, a.String())
	}
	return dst
}

// shorten cuts s to n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}
