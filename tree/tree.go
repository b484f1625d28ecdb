// Package tree renders an instance as the metadata tree EC2 serves: every
// category and leaf under meta-data/, dynamic/ and user-data, with directory
// listings derived from the leaves so that a listing can never name a path
// that does not answer.
//
// A Tree is immutable and holds every body pre-rendered, so the data plane
// answers a GET with one map lookup. What changes with time (rotating
// credentials, events that become visible later) is handled by rebuilding:
// each Tree says until when it is valid.
package tree

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Content types EC2 uses: text/plain for every value and listing, JSON
// included, and octet-stream for user data.
const (
	TextPlain   = "text/plain"
	OctetStream = "application/octet-stream"
)

// Node is one answerable path: a leaf value or a directory listing.
type Node struct {
	ContentType string
	// Body is what a request without a token receives.
	Body []byte
	// BodyV2, when set, is what a request with a valid token receives
	// instead (role credentials differ by delivery version).
	BodyV2 []byte
	// lazy, when set, computes Body on first use (identity signatures are
	// costly and rarely read).
	lazy func() []byte
	once sync.Once

	length, lengthV2 []string // Content-Length header values, made once
}

// Content returns the body for a request that did (v2) or did not carry a
// token, and its Content-Length header value.
func (n *Node) Content(v2 bool) ([]byte, []string) {
	if n.lazy != nil {
		n.once.Do(func() {
			n.Body = n.lazy()
			n.length = lengthOf(n.Body)
		})
	}
	if v2 && n.BodyV2 != nil {
		return n.BodyV2, n.lengthV2
	}
	return n.Body, n.length
}

// seal computes the header values once the bodies are final.
func (n *Node) seal() {
	if n.lazy != nil {
		return
	}
	n.length = lengthOf(n.Body)
	if n.BodyV2 != nil {
		n.lengthV2 = lengthOf(n.BodyV2)
	}
}

func lengthOf(b []byte) []string { return []string{strconv.Itoa(len(b))} }

// Tree is the rendered metadata of one instance at one moment.
type Tree struct {
	nodes map[string]*Node // keyed by path below the version, no slashes at either end
	// ValidUntil is the first moment the tree may differ from a fresh
	// build; zero means never.
	ValidUntil time.Time
}

// Lookup returns the node for path, the part of the URL after the version
// segment with no leading slash. A single trailing slash is accepted on
// leaves and directories alike, as EC2 does.
func (t *Tree) Lookup(path string) (*Node, bool) {
	if strings.HasSuffix(path, "/") {
		path = path[:len(path)-1]
	}
	n, ok := t.nodes[path]
	return n, ok
}

// Paths returns every answerable path, sorted; tests use it to crawl.
func (t *Tree) Paths() []string {
	out := make([]string, 0, len(t.nodes))
	for p := range t.nodes {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// builder collects leaves and derives the listings of their directories.
type builder struct {
	nodes    map[string]*Node
	children map[string][]string // keyed by directory path; entry names as listed
	listed   map[string]bool     // directories whose listing was given explicitly
}

func newBuilder() *builder {
	return &builder{
		nodes:    make(map[string]*Node, 128),
		children: make(map[string][]string, 32),
		listed:   make(map[string]bool),
	}
}

// text adds a text/plain leaf.
func (b *builder) text(path, value string) {
	b.add(path, &Node{ContentType: TextPlain, Body: []byte(value)})
}

// lines adds a multi-valued leaf, one value per line, no trailing newline.
func (b *builder) lines(path string, values []string) {
	b.text(path, strings.Join(values, "\n"))
}

// add registers n at path and its name in each parent directory.
func (b *builder) add(path string, n *Node) {
	b.nodes[path] = n
	b.register(path, false)
}

func (b *builder) register(path string, isDir bool) {
	for {
		i := strings.LastIndexByte(path, '/')
		dir, name := "", path
		if i >= 0 {
			dir, name = path[:i], path[i+1:]
		}
		if isDir {
			name += "/"
		}
		if contains(b.children[dir], name) {
			return
		}
		b.children[dir] = append(b.children[dir], name)
		if dir == "" {
			return
		}
		path, isDir = dir, true
	}
}

// listing fixes the listing of dir to entries, in that order, overriding the
// derived one.
func (b *builder) listing(dir string, entries []string) {
	if dir != "" {
		b.register(dir, true)
	}
	b.listed[dir] = true
	b.nodes[dir] = &Node{ContentType: TextPlain, Body: []byte(strings.Join(entries, "\n"))}
}

// finish renders the derived listings, sorted byte-wise as EC2 sorts them.
func (b *builder) finish(validUntil time.Time) *Tree {
	for dir, names := range b.children {
		if b.listed[dir] {
			continue
		}
		sort.Strings(names)
		b.nodes[dir] = &Node{ContentType: TextPlain, Body: []byte(strings.Join(names, "\n"))}
	}
	for _, n := range b.nodes {
		n.seal()
	}
	return &Tree{nodes: b.nodes, ValidUntil: validUntil}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
