package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/fault/rule"
)

// File is a loaded config: the instances to serve and the server settings.
// A nil or empty setting means the file left it to the command line and the
// server's defaults.
type File struct {
	// Instances holds the instances, at least one: the file's instance:,
	// its instances: list, or the built-in instance when it gives neither.
	Instances []*imds.Instance

	Listen    []string // data-plane addresses as host:port
	Versions  []string // the GET / answer, oldest first
	KeepAlive *bool
	AccessLog *bool

	// IdentityKeyPEM and IdentityCertPEM sign identity documents; both are
	// nil when the file gives no identity: and a key is generated at start.
	IdentityKeyPEM  []byte
	IdentityCertPEM []byte

	// Credentials is the role credential schedule, creds.DefaultSchedule
	// unless the file sets one.
	Credentials creds.Schedule
	// CredentialSeed derives role credentials; nil means a random seed, so
	// credentials change across restarts.
	CredentialSeed []byte

	// Faults are fault-injection rules to apply from the start, checked.
	Faults []rule.Rule
}

// Default returns the config used without a file: the built-in instance,
// launched at now, and default settings.
func Default(now time.Time) *File {
	return &File{Instances: []*imds.Instance{DefaultInstance(now)}, Credentials: creds.DefaultSchedule}
}

// Load reads and validates the config file at path; relative paths inside
// it start at the file's directory. now is the server start: the default
// launch time, and the origin of relative event times.
func Load(path string, now time.Time) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, filepath.Dir(path), now)
}

// Parse reads and validates a config held in memory. name stands for the
// file in errors, baseDir is where relative paths start. Every error is an
// *Error naming the file, line and field, and nothing half-loads: on error
// the File is nil.
func Parse(name string, data []byte, baseDir string, now time.Time) (*File, error) {
	d := newDecoder(name, baseDir)
	root, err := d.document(data)
	if err != nil {
		return nil, err
	}
	f, err := d.file(root, now)
	if err != nil {
		return nil, err
	}
	return f, nil
}

var syntaxLineRe = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// document parses the YAML and returns its root node, nil for an empty file.
func (d *decoder) document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, d.syntax(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, d.fail(&extra, "", "a config holds one YAML document")
	} else if !errors.Is(err, io.EOF) {
		return nil, d.syntax(err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// syntax turns a YAML parser error into a located one.
func (d *decoder) syntax(err error) error {
	msg := err.Error()
	if m := syntaxLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: d.name, Line: line, Problem: m[2]}
	}
	return &Error{File: d.name, Problem: strings.TrimPrefix(msg, "yaml: ")}
}

// file reads the top level and then validates every instance, translating
// Validate's field names into lines of the file.
func (d *decoder) file(root *yaml.Node, now time.Time) (*File, error) {
	f := &File{Credentials: creds.DefaultSchedule}
	var prefixes []string
	var renames []map[string]string
	add := func(in *imds.Instance, path string, r map[string]string) {
		f.Instances = append(f.Instances, in)
		prefixes = append(prefixes, path)
		renames = append(renames, r)
	}

	set := map[string]bool{}
	if root != nil {
		var err error
		set, err = d.fields(root, "", map[string]field{
			"listen":      d.listen(f),
			"versions":    d.versions(f),
			"keep-alive":  d.optionalBool(&f.KeepAlive),
			"access-log":  d.optionalBool(&f.AccessLog),
			"identity":    d.identity(f),
			"credentials": d.credentials(f),
			"faults":      d.faults(f, now),
			"instance": func(v *yaml.Node, p string) error {
				in, r, err := d.instance(v, p, now)
				if err == nil {
					add(in, p, r)
				}
				return err
			},
			"instances": func(v *yaml.Node, p string) error {
				if v.Kind == yaml.SequenceNode && len(v.Content) == 0 || isNull(v) {
					return d.fail(v, p, "must list at least one instance")
				}
				return d.list(v, p, false, func(_ int, item *yaml.Node, ip string) error {
					in, r, err := d.instance(item, ip, now)
					if err == nil {
						add(in, ip, r)
					}
					return err
				})
			},
		})
		if err != nil {
			return nil, err
		}
	}
	if set["instance"] && set["instances"] {
		return nil, d.locate("instances", fmt.Sprintf("conflicts with instance (line %d)", d.lines["instance"]))
	}
	if len(f.Instances) == 0 {
		add(DefaultInstance(now), "instance", nil)
	}

	for i, in := range f.Instances {
		if err := Validate(in); err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				return nil, err
			}
			return nil, d.locate(under(prefixes[i], rename(fe.Field, renames[i])), fe.Problem)
		}
	}
	if err := d.checkFleet(f.Instances, prefixes); err != nil {
		return nil, err
	}
	return f, nil
}

// rename replaces the start of a field path that the file spelled
// differently (public-keys[0] written as key-pair).
func rename(field string, renames map[string]string) string {
	for from, to := range renames {
		if field == from {
			return to
		}
		if rest, ok := strings.CutPrefix(field, from); ok && (rest[0] == '.' || rest[0] == '[') {
			return to + rest
		}
	}
	return field
}

// checkFleet checks what must be unique across instances: ids, and the
// private addresses a fleet tells its instances apart by.
func (d *decoder) checkFleet(ins []*imds.Instance, prefixes []string) error {
	ids := map[string]int{}
	owners := map[string]string{}
	for i, in := range ins {
		if j, ok := ids[in.ID]; ok {
			return d.locate(join(prefixes[i], "id"), fmt.Sprintf("%s repeats %s", in.ID, prefixes[j]))
		}
		ids[in.ID] = i
		for _, a := range in.Addresses() {
			if prev, ok := owners[a.String()]; ok {
				return d.locate(join(prefixes[i], "network-interfaces"),
					fmt.Sprintf("address %s is also used by %s", a, prev))
			}
			owners[a.String()] = prefixes[i]
		}
	}
	return nil
}
