package config

import (
	"errors"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/imds-dev/imds/fault/rule"
)

// faults reads the fault-injection rules applied from the start. Each item
// uses the fields of the control endpoint's JSON (id, instance, path,
// methods, kind, latency, status, count, from, until); after and for count
// from the server start, so "after: 30s, for: 1m" is a failure that comes
// half a minute in and lasts a minute.
func (d *decoder) faults(f *File, now time.Time) field {
	return func(v *yaml.Node, p string) error {
		ids := map[string]string{}
		return d.list(v, p, false, func(_ int, item *yaml.Node, ip string) error {
			r, err := d.fault(item, ip, now)
			if err != nil {
				return err
			}
			if prev, ok := ids[r.ID]; ok && r.ID != "" {
				return d.locate(ip+".id", fmt.Sprintf("%s repeats %s", r.ID, prev))
			}
			ids[r.ID] = ip
			f.Faults = append(f.Faults, r)
			return nil
		})
	}
}

// fault reads one rule and checks it with the rule package, pointing its
// complaints at the lines of the file.
func (d *decoder) fault(v *yaml.Node, p string, now time.Time) (rule.Rule, error) {
	var s rule.Spec
	integer := func(dst func(int)) field {
		return func(v *yaml.Node, p string) error {
			n, err := d.integer(v, p)
			dst(n)
			return err
		}
	}
	_, err := d.fields(v, p, map[string]field{
		"id":       d.strTo(&s.ID),
		"instance": d.strTo(&s.Instance),
		"path":     d.strTo(&s.Path),
		"methods": func(v *yaml.Node, p string) (err error) {
			s.Methods, err = d.strs(v, p)
			return err
		},
		"kind":    d.strTo(&s.Kind),
		"latency": d.strTo(&s.Latency),
		"status":  integer(func(n int) { s.Status = n }),
		"count":   integer(func(n int) { s.Count = int64(n) }),
		"from":    d.strTo(&s.From),
		"until":   d.strTo(&s.Until),
		"after":   d.strTo(&s.After),
		"for":     d.strTo(&s.For),
	})
	if err != nil {
		return rule.Rule{}, err
	}
	r, err := s.Rule(now)
	var fe *rule.FieldError
	if errors.As(err, &fe) {
		return rule.Rule{}, d.locate(p+"."+fe.Field, fe.Problem)
	}
	if err != nil {
		return rule.Rule{}, d.locate(p, err.Error())
	}
	return r, nil
}
