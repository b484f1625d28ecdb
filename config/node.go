package config

import (
	"fmt"
	"net/netip"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds how many YAML nodes one file may expand to. Aliases can
// make a small file describe an exponentially large tree; no real config
// comes near this.
const maxNodes = 200_000

// decoder walks one config document. It remembers the line of every field it
// sees, so that problems found later by Validate can still point into the file.
type decoder struct {
	name    string              // file name in errors
	baseDir string              // where relative paths start
	lines   map[string]int      // field path -> line of its key
	budget  int                 // nodes left before the file counts as too large
	merging map[*yaml.Node]bool // mappings whose merge keys are being expanded
}

func newDecoder(name, baseDir string) *decoder {
	return &decoder{name: name, baseDir: baseDir, lines: map[string]int{}, budget: maxNodes,
		merging: map[*yaml.Node]bool{}}
}

// fail returns a located error for the field at path, found at node n.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: d.name, Line: line, Field: path, Problem: fmt.Sprintf(format, args...)}
}

// locate turns a field path into a located error, using the line of the
// nearest enclosing field the file spelled out.
func (d *decoder) locate(path, problem string) error {
	for p := path; p != ""; p = parent(p) {
		if line, ok := d.lines[p]; ok {
			return &Error{File: d.name, Line: line, Field: path, Problem: problem}
		}
	}
	return &Error{File: d.name, Field: path, Problem: problem}
}

// resolve follows aliases and charges the node against the budget.
func (d *decoder) resolve(n *yaml.Node) (*yaml.Node, error) {
	n = resolveAlias(n)
	d.budget--
	if d.budget < 0 {
		return nil, d.fail(n, "", "file expands to more than %d nodes", maxNodes)
	}
	return n, nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// entry is one key/value pair of a mapping.
type entry struct {
	key, val *yaml.Node
	name     string
}

// entries returns a mapping's pairs in file order, with YAML merge keys
// ("<<: *base") expanded: merged pairs take the merge key's place and lose
// to keys the mapping spells out itself. A key given twice is an error.
func (d *decoder) entries(n *yaml.Node, path string) ([]entry, error) {
	own := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := d.resolve(n.Content[i])
		if err != nil {
			return nil, err
		}
		if k.Kind != yaml.ScalarNode {
			return nil, d.fail(k, path, "keys must be strings")
		}
		if k.ShortTag() == "!!merge" {
			continue
		}
		if first, ok := own[k.Value]; ok {
			return nil, d.fail(k, join(path, k.Value), "repeated (first at line %d)", first)
		}
		own[k.Value] = k.Line
	}

	// A mapping that merges itself, directly or through others, has no end.
	if d.merging[n] {
		return nil, d.fail(n, path, "<< merges a mapping into itself")
	}
	d.merging[n] = true
	defer delete(d.merging, n)

	var out []entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAlias(n.Content[i+1])
		k = resolveAlias(k)
		if k.ShortTag() != "!!merge" {
			out = append(out, entry{key: k, val: v, name: k.Value})
			continue
		}
		merged, err := d.merged(v, path)
		if err != nil {
			return nil, err
		}
		for _, e := range merged {
			if _, mine := own[e.name]; mine || seen[e.name] {
				continue
			}
			seen[e.name] = true
			out = append(out, e)
		}
	}
	return out, nil
}

// merged returns the pairs a merge key brings in: one mapping or a list of
// them, earlier mappings winning.
func (d *decoder) merged(v *yaml.Node, path string) ([]entry, error) {
	v, err := d.resolve(v)
	if err != nil {
		return nil, err
	}
	maps := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		maps = v.Content
	}
	var out []entry
	for _, m := range maps {
		m, err := d.resolve(m)
		if err != nil {
			return nil, err
		}
		if m.Kind != yaml.MappingNode {
			return nil, d.fail(m, path, "<< must merge a mapping")
		}
		es, err := d.entries(m, path)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return out, nil
}

// field handles the value of one known key; path is the key's field path.
type field func(v *yaml.Node, path string) error

// fields walks a mapping, hands each value to the handler of its key and
// reports unknown keys. It returns the keys it saw, so that callers can
// tell a value the file gave from a default. A null node counts as an empty
// mapping.
func (d *decoder) fields(n *yaml.Node, path string, handlers map[string]field) (map[string]bool, error) {
	n, err := d.resolve(n)
	if err != nil {
		return nil, err
	}
	if isNull(n) {
		return map[string]bool{}, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, d.fail(n, path, "must be a mapping, not %s", describe(n))
	}
	es, err := d.entries(n, path)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(es))
	for _, e := range es {
		p := join(path, e.name)
		h, ok := handlers[e.name]
		if !ok {
			return nil, d.fail(e.key, p, "unknown field")
		}
		d.lines[p] = e.key.Line
		seen[e.name] = true
		v, err := d.resolve(e.val)
		if err != nil {
			return nil, err
		}
		if err := h(v, p); err != nil {
			return nil, err
		}
	}
	return seen, nil
}

// pairs walks a mapping whose keys are data (tags, block devices), in file
// order. A null node counts as an empty mapping.
func (d *decoder) pairs(n *yaml.Node, path string, each func(key string, v *yaml.Node, path string) error) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return d.fail(n, path, "must be a mapping, not %s", describe(n))
	}
	es, err := d.entries(n, path)
	if err != nil {
		return err
	}
	for _, e := range es {
		p := join(path, e.name)
		d.lines[p] = e.key.Line
		v, err := d.resolve(e.val)
		if err != nil {
			return err
		}
		if err := each(e.name, v, p); err != nil {
			return err
		}
	}
	return nil
}

// list walks a sequence. A null node is an empty list and, when scalars
// allows it, a single scalar is a list of one.
func (d *decoder) list(n *yaml.Node, path string, scalars bool, each func(i int, v *yaml.Node, path string) error) error {
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.ScalarNode && scalars:
		d.lines[index(path, 0)] = n.Line
		return each(0, n, index(path, 0))
	case n.Kind != yaml.SequenceNode:
		return d.fail(n, path, "must be a list, not %s", describe(n))
	}
	for i, item := range n.Content {
		item, err := d.resolve(item)
		if err != nil {
			return err
		}
		p := index(path, i)
		d.lines[p] = item.Line
		if err := each(i, item, p); err != nil {
			return err
		}
	}
	return nil
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if isNull(n) {
		return "null"
	}
	return fmt.Sprintf("%q", n.Value)
}

// str reads a scalar as text, whatever YAML would have typed it as, so that
// account-id: 123456789012 stays a string of digits. Null reads as "".
func (d *decoder) str(n *yaml.Node, path string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", d.fail(n, path, "must be a string, not %s", describe(n))
	}
	if isNull(n) {
		return "", nil
	}
	return n.Value, nil
}

// strs reads a list of strings; a single string is a list of one.
func (d *decoder) strs(n *yaml.Node, path string) ([]string, error) {
	var out []string
	err := d.list(n, path, true, func(_ int, v *yaml.Node, p string) error {
		s, err := d.str(v, p)
		out = append(out, s)
		return err
	})
	return out, err
}

func (d *decoder) integer(n *yaml.Node, path string) (int, error) {
	var i int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		return 0, d.fail(n, path, "must be an integer, not %s", describe(n))
	}
	return i, nil
}

func (d *decoder) boolean(n *yaml.Node, path string) (bool, error) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		return false, d.fail(n, path, "must be true or false, not %s", describe(n))
	}
	return b, nil
}

// duration reads a Go duration such as 90s, 2m or 6h.
func (d *decoder) duration(n *yaml.Node, path string) (time.Duration, error) {
	s, err := d.str(n, path)
	if err != nil {
		return 0, err
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		return 0, d.fail(n, path, "must be a duration such as 90s, 2m or 6h, not %q", s)
	}
	return dur, nil
}

// timestamp reads an RFC 3339 time.
func (d *decoder) timestamp(n *yaml.Node, path string) (time.Time, error) {
	s, err := d.str(n, path)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, d.fail(n, path, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not %q", s)
	}
	return t.UTC(), nil
}

// when reads an RFC 3339 time or a duration relative to start, such as
// +24h or -30m.
func (d *decoder) when(n *yaml.Node, path string, start time.Time) (time.Time, error) {
	s, err := d.str(n, path)
	if err != nil {
		return time.Time{}, err
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if dur, err := time.ParseDuration(s); err == nil {
		return start.Add(dur), nil
	}
	return time.Time{}, d.fail(n, path, "must be an RFC 3339 time or a duration from start such as +24h, not %q", s)
}

func (d *decoder) addrs(n *yaml.Node, path string) ([]netip.Addr, error) {
	var out []netip.Addr
	err := d.list(n, path, true, func(_ int, v *yaml.Node, p string) error {
		s, err := d.str(v, p)
		if err != nil {
			return err
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return d.fail(v, p, "not an IP address: %q", s)
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

func (d *decoder) prefix(n *yaml.Node, path string) (netip.Prefix, error) {
	s, err := d.str(n, path)
	if err != nil || s == "" {
		return netip.Prefix{}, err
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, d.fail(n, path, "not a CIDR block: %q", s)
	}
	return p, nil
}

func (d *decoder) prefixes(n *yaml.Node, path string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	err := d.list(n, path, true, func(_ int, v *yaml.Node, p string) error {
		s, err := d.str(v, p)
		if err != nil {
			return err
		}
		pre, err := netip.ParsePrefix(s)
		if err != nil {
			return d.fail(v, p, "not a CIDR block: %q", s)
		}
		out = append(out, pre)
		return nil
	})
	return out, err
}
