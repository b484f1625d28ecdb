package control

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imds-dev/imds"
)

var describeInstancesParams = []string{
	"InstanceId.#", "Filter.#.Name", "Filter.#.Value.#", "MaxResults", "NextToken",
	"DryRun", "IncludeManagedResources",
}

// instanceFilters are the DescribeInstances filters imds understands, each
// with the values of an instance it compares against. tag:KEY is handled
// apart.
var instanceFilters = map[string]func(in *imds.Instance) []string{
	"instance-id":         func(in *imds.Instance) []string { return []string{in.ID} },
	"image-id":            func(in *imds.Instance) []string { return []string{in.ImageID} },
	"instance-type":       func(in *imds.Instance) []string { return []string{in.InstanceType} },
	"reservation-id":      func(in *imds.Instance) []string { return []string{in.ReservationID} },
	"owner-id":            func(in *imds.Instance) []string { return []string{in.AccountID} },
	"availability-zone":   func(in *imds.Instance) []string { return []string{in.Placement.AvailabilityZone} },
	"instance-state-name": func(in *imds.Instance) []string { return []string{stateName(in)} },
	"instance-state-code": func(in *imds.Instance) []string { return []string{strconv.Itoa(stateCode(in))} },
	"tag-key":             func(in *imds.Instance) []string { return tagField(in, true) },
	"tag-value":           func(in *imds.Instance) []string { return tagField(in, false) },
	"private-ip-address":  func(in *imds.Instance) []string { return addrs(in, false) },
	"ip-address":          func(in *imds.Instance) []string { return addrs(in, true) },
	"vpc-id": func(in *imds.Instance) []string {
		return primaryField(in, func(n *imds.NetworkInterface) string { return n.VPCID })
	},
	"subnet-id": func(in *imds.Instance) []string {
		return primaryField(in, func(n *imds.NetworkInterface) string { return n.SubnetID })
	},
	"metadata-options.http-tokens":   func(in *imds.Instance) []string { return []string{in.Options.HTTPTokens} },
	"metadata-options.http-endpoint": func(in *imds.Instance) []string { return []string{in.Options.HTTPEndpoint} },
	"metadata-options.http-put-response-hop-limit": func(in *imds.Instance) []string {
		return []string{strconv.Itoa(in.Options.HTTPPutHopLimit)}
	},
	"metadata-options.http-protocol-ipv6":     func(in *imds.Instance) []string { return []string{in.Options.HTTPProtocolIPv6} },
	"metadata-options.instance-metadata-tags": func(in *imds.Instance) []string { return []string{in.Options.InstanceMetadataTags} },
}

func knownInstanceFilter(name string) bool {
	_, ok := instanceFilters[name]
	return ok || (strings.HasPrefix(name, "tag:") && len(name) > len("tag:"))
}

// matches reports whether in passes every filter.
func matches(in *imds.Instance, filters []filter) bool {
	for _, f := range filters {
		var values []string
		if key, ok := strings.CutPrefix(f.Name, "tag:"); ok {
			for _, t := range in.Tags {
				if t.Key == key {
					values = append(values, t.Value)
				}
			}
		} else {
			values = instanceFilters[f.Name](in)
		}
		if !slices.ContainsFunc(values, f.matchAny) {
			return false
		}
	}
	return true
}

type describeInstancesResponse struct {
	XMLName struct{} `xml:"DescribeInstancesResponse"`
	head
	Reservations items[reservationXML] `xml:"reservationSet"`
	NextToken    string                `xml:"nextToken,omitempty"`
}

type reservationXML struct {
	ReservationID string             `xml:"reservationId"`
	OwnerID       string             `xml:"ownerId"`
	Groups        items[groupXML]    `xml:"groupSet"`
	Instances     items[instanceXML] `xml:"instancesSet"`
}

// describeInstances is DescribeInstances: instances in id order, one
// reservation per reservation id, paginated by MaxResults and NextToken.
func (s *Server) describeInstances(ctx context.Context, p params) (reply, *apiError) {
	ids := p.list("InstanceId")
	for _, id := range ids {
		if err := checkInstanceID(id); err != nil {
			return nil, err
		}
	}
	if _, ok := p.str("MaxResults"); ok && len(ids) > 0 {
		return nil, errorf(codeInvalidCombination, "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	filters, err := parseFilters(p, knownInstanceFilter)
	if err != nil {
		return nil, err
	}
	size, after, err := page(p)
	if err != nil {
		return nil, err
	}
	if _, err := p.boolean("IncludeManagedResources"); err != nil {
		return nil, err
	}
	dryRun, err := p.boolean("DryRun")
	if err != nil {
		return nil, err
	}

	all, listErr := s.store.List(ctx)
	if listErr != nil {
		return nil, s.storeError(listErr, "")
	}
	found, err := selectInstances(all, ids)
	if err != nil {
		return nil, err
	}
	if dryRun {
		return nil, errDryRun
	}
	var chosen []*imds.Instance
	for _, in := range found {
		if matches(in, filters) {
			chosen = append(chosen, in)
		}
	}
	chosen, next := paginate(chosen, func(in *imds.Instance) string { return in.ID }, size, after)
	return &describeInstancesResponse{
		Reservations: items[reservationXML]{s.reservations(chosen)},
		NextToken:    next,
	}, nil
}

// selectInstances returns all instances sorted by id, or only those named
// in ids, every one of which must exist.
func selectInstances(all []*imds.Instance, ids []string) ([]*imds.Instance, *apiError) {
	slices.SortFunc(all, func(a, b *imds.Instance) int { return strings.Compare(a.ID, b.ID) })
	if len(ids) == 0 {
		return all, nil
	}
	var out []*imds.Instance
	var missing []string
	for _, id := range ids {
		i, ok := slices.BinarySearchFunc(all, id, func(in *imds.Instance, id string) int { return strings.Compare(in.ID, id) })
		if !ok {
			if !slices.Contains(missing, id) {
				missing = append(missing, id)
			}
			continue
		}
		if !slices.Contains(out, all[i]) {
			out = append(out, all[i])
		}
	}
	if len(missing) > 0 {
		return nil, errNotFound(missing)
	}
	slices.SortFunc(out, func(a, b *imds.Instance) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// reservations groups instances by reservation, in order of first
// appearance.
func (s *Server) reservations(list []*imds.Instance) []reservationXML {
	var out []reservationXML
	at := map[string]int{} // index in out, keyed by reservation id
	for _, in := range list {
		i, ok := at[in.ReservationID]
		if !ok {
			i = len(out)
			at[in.ReservationID] = i
			out = append(out, reservationXML{ReservationID: in.ReservationID, OwnerID: in.AccountID})
		}
		out[i].Instances.Items = append(out[i].Instances.Items, s.instanceXML(in))
	}
	return out
}

// EC2's instance state codes.
var stateCodes = map[string]int{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}

func stateName(in *imds.Instance) string {
	if _, ok := stateCodes[in.State]; ok {
		return in.State
	}
	return "running"
}

func stateCode(in *imds.Instance) int { return stateCodes[stateName(in)] }

func tagField(in *imds.Instance, key bool) []string {
	out := make([]string, len(in.Tags))
	for i, t := range in.Tags {
		out[i] = t.Value
		if key {
			out[i] = t.Key
		}
	}
	return out
}

func addrs(in *imds.Instance, public bool) []string {
	var out []string
	for _, ni := range in.Interfaces {
		list := ni.PrivateIPv4s
		if public {
			list = ni.PublicIPv4s
		}
		for _, a := range list {
			out = append(out, a.String())
		}
	}
	return out
}

func primaryField(in *imds.Instance, f func(*imds.NetworkInterface) string) []string {
	if ni := in.Primary(); ni != nil {
		return []string{f(ni)}
	}
	return nil
}

// EC2's timestamp form in API answers.
const apiTime = "2006-01-02T15:04:05.000Z"

func apiTimestamp(t time.Time) string { return t.UTC().Format(apiTime) }
