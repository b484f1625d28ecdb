package control

import (
	"context"
	"errors"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
)

type runInstancesResponse struct {
	XMLName struct{} `xml:"RunInstancesResponse"`
	head
	reservationXML
}

// runInstances is RunInstances: it launches between MinCount and MaxCount
// instances (as many as maxLaunch and the subnet's free addresses allow),
// stores them and hands them to the data plane before answering, so that
// the new instances are served by the time the caller has their ids.
//
// s.mu is held from reading the store to the last Apply, so that two
// launches through this server never pick the same address.
// TODO: next step (issue 4): replicas sharing one etcd can still pick the
// same free address at once; claim addresses in the store.
func (s *Server) runInstances(ctx context.Context, p params) (reply, *apiError) {
	l, err := parseLaunch(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all, listErr := s.store.List(ctx)
	if listErr != nil {
		return nil, s.storeError(listErr, "")
	}
	slices.SortFunc(all, func(a, b *imds.Instance) int { return strings.Compare(a.ID, b.ID) })

	if l.ClientToken != "" && !l.DryRun {
		if prev := launchedWith(all, l.ClientToken); len(prev) > 0 {
			return s.replay(prev, l)
		}
	}
	ins, err := s.plan(all, l)
	if err != nil {
		return nil, err
	}
	if l.DryRun {
		return nil, errDryRun
	}
	if err := s.createAll(ctx, ins); err != nil {
		return nil, err
	}
	addrs := make([]string, len(ins))
	for i, in := range ins {
		s.apply(in)
		addrs[i] = in.Interfaces[0].PrivateIPv4s[0].String()
	}
	s.log.Info("instances launched", "reservation", ins[0].ReservationID, "instances", instanceIDs(ins),
		"addresses", addrs, "image", l.ImageID, "type", l.InstanceType, "http_tokens", ins[0].Options.HTTPTokens)
	return s.launchReply(ins, true), nil
}

// plan builds the instances a launch would create, each checked as a
// change to a stored instance is, without storing anything.
func (s *Server) plan(all []*imds.Instance, l *launch) ([]*imds.Instance, *apiError) {
	now := s.verifier.now().UTC().Truncate(time.Second)
	st, err := chooseSite(all, l.SubnetID, l.Zone, l.Address, s.fallback(now))
	if err != nil {
		return nil, err
	}
	keys, err := findKey(all, l.KeyName)
	if err != nil {
		return nil, err
	}
	iam, err := findProfile(all, l.ProfileARN, l.ProfileName)
	if err != nil {
		return nil, err
	}

	used := usedAddresses(all)
	var addrs []netip.Addr
	if l.Address.IsValid() {
		if owner, ok := used[l.Address]; ok {
			return nil, errorf(codeAddressInUse, "Address %s is in use by instance %s.", l.Address, owner)
		}
		addrs = []netip.Addr{l.Address}
	} else {
		addrs = allocate(st.Net.SubnetIPv4CIDR, used, min(l.MaxCount, maxLaunch))
		if len(addrs) < l.MinCount {
			return nil, errorf(codeNoFreeAddresses, "There are not enough free addresses in subnet '%s' (%s) to launch %d instances.",
				st.Net.SubnetID, st.Net.SubnetIPv4CIDR, l.MinCount)
		}
	}

	// Explicit options win over the account's defaults, which win over
	// EC2's own.
	opts := imds.DefaultMetadataOptions()
	s.defaults.Apply(&opts)
	l.Options(&opts)

	taken := knownIDs(all)
	proto := &imds.Instance{
		AccountID:       st.AccountID,
		ReservationID:   uniqueID(taken, func() string { return newResourceID("r") }),
		ImageID:         l.ImageID,
		InstanceType:    l.InstanceType,
		Architecture:    architecture(l.InstanceType),
		LaunchTime:      now,
		AMIManifestPath: "(unknown)",
		LifeCycle:       "on-demand",
		Profile:         "default-hvm",
		Placement:       st.Placement,
		Interfaces:      []imds.NetworkInterface{st.Net},
		PublicKeys:      keys,
		BlockDevices:    []imds.BlockDevice{{Virtual: "ami", Device: "/dev/xvda"}, {Virtual: "root", Device: "/dev/xvda"}},
		Tags:            l.Tags,
		IAM:             iam,
		UserData:        l.UserData,
		Options:         opts,
		State:           "running",
		ClientToken:     l.ClientToken,
	}
	proto.Interfaces[0].OwnerID = st.AccountID
	ins := make([]*imds.Instance, len(addrs))
	for i, a := range addrs {
		in := proto.Clone()
		in.ID = uniqueID(taken, func() string { return newResourceID("i") })
		in.LaunchIndex = i
		ni := &in.Interfaces[0]
		ni.ID = uniqueID(taken, func() string { return newResourceID("eni") })
		ni.MAC = uniqueID(taken, newMAC)
		ni.PrivateIPv4s = []netip.Addr{a}
		if err := checkInstance(in); err != nil {
			return nil, err
		}
		ins[i] = in
	}
	return ins, nil
}

// fallback is the instance a launch into an empty store takes its account,
// placement and network from: the built-in instance, moved to the server's
// region.
func (s *Server) fallback(now time.Time) *imds.Instance {
	in := config.DefaultInstance(now)
	if in.Placement.Region != s.region {
		in.Placement = imds.Placement{Region: s.region, AvailabilityZone: s.region + "a"}
	}
	return in
}

// knownIDs collects the ids and MACs already in use, so that new ones
// differ from them.
func knownIDs(all []*imds.Instance) map[string]bool {
	taken := map[string]bool{}
	for _, in := range all {
		taken[in.ID], taken[in.ReservationID] = true, true
		for _, ni := range in.Interfaces {
			taken[ni.ID], taken[ni.MAC] = true, true
		}
	}
	return taken
}

// gravitonRe matches the families of Arm instance types: a g after the
// generation digit (m6g, c7gn, r8gd, t4g) or the first Arm family, a1.
var gravitonRe = regexp.MustCompile(`^([a-z]+[0-9]+[a-z]*g[a-z]*|a1)\.`)

func architecture(instanceType string) string {
	if gravitonRe.MatchString(instanceType) {
		return "arm64"
	}
	return "x86_64"
}

// findKey returns the key pair named, which some instance must already
// carry: imds has no key material of its own and makes none up.
func findKey(all []*imds.Instance, name string) ([]imds.PublicKey, *apiError) {
	if name == "" {
		return nil, nil
	}
	for _, in := range all {
		for _, k := range in.PublicKeys {
			if k.Name == name {
				return []imds.PublicKey{k}, nil
			}
		}
	}
	return nil, errorf(codeKeyPairNotFound, "The key pair '%s' does not exist", name)
}

// findProfile returns the instance profile named by ARN, by name or by
// both, which some instance must already use, since imds knows no roles
// beyond those.
func findProfile(all []*imds.Instance, arn, name string) (*imds.IAMProfile, *apiError) {
	if arn == "" && name == "" {
		return nil, nil
	}
	for _, in := range all {
		p := in.IAM
		if p == nil || (arn != "" && p.ProfileARN != arn) || (name != "" && profileName(p.ProfileARN) != name) {
			continue
		}
		found := *p
		if p.Static != nil {
			st := *p.Static
			found.Static = &st
		}
		return &found, nil
	}
	param, v := "iamInstanceProfile.arn", arn
	if arn == "" {
		param, v = "iamInstanceProfile.name", name
	}
	return nil, errorf(codeInvalidValue, "Value (%s) for parameter %s is invalid. No instance known to imds uses this instance profile.", v, param)
}

// profileName is the last part of an instance profile ARN's path.
func profileName(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

// create stores a new instance with the store's Create when it has one,
// so that a launch never overwrites an instance stored meanwhile by
// another replica or an import.
func (s *Server) create(ctx context.Context, in *imds.Instance) error {
	if c, ok := s.store.(imds.Creator); ok {
		return c.Create(ctx, in)
	}
	_, err := s.store.Get(ctx, in.ID)
	switch {
	case err == nil:
		return imds.ErrExists
	case !errors.Is(err, imds.ErrNotFound):
		return err
	}
	return s.store.Put(ctx, in)
}

// createAll stores every instance of a launch or, failing that, none: the
// ones already stored are deleted again, as EC2 launches all or nothing.
func (s *Server) createAll(ctx context.Context, ins []*imds.Instance) *apiError {
	for i, in := range ins {
		err := s.create(ctx, in)
		if err == nil {
			continue
		}
		for _, done := range ins[:i] {
			if delErr := s.store.Delete(context.WithoutCancel(ctx), done.ID); delErr != nil {
				s.log.Error("undo a failed launch", "instance", done.ID, "err", delErr)
			}
		}
		if errors.Is(err, imds.ErrExists) {
			// Another writer took a fresh id in the meantime.
			return errorf(codeUnavailable, "The instance ID %s was taken while launching; please try again.", in.ID)
		}
		return s.storeError(err, in.ID)
	}
	return nil
}

// launchedWith returns the instances an earlier call with the same client
// token launched, by launch index.
func launchedWith(all []*imds.Instance, token string) []*imds.Instance {
	var out []*imds.Instance
	for _, in := range all {
		if in.ClientToken == token {
			out = append(out, in)
		}
	}
	slices.SortFunc(out, func(a, b *imds.Instance) int { return a.LaunchIndex - b.LaunchIndex })
	return out
}

// replay answers a retried call with what the first one launched, as EC2
// does for a repeated client token, unless the retry asks for something
// else.
func (s *Server) replay(prev []*imds.Instance, l *launch) (reply, *apiError) {
	if prev[0].ImageID != l.ImageID || len(prev) < l.MinCount || len(prev) > l.MaxCount {
		return nil, errorf(codeIdempotentMismatch, "The client token '%s' was used with a different request.", l.ClientToken)
	}
	return s.launchReply(prev, false), nil
}

// launchReply is the answer to RunInstances. A fresh launch reports its
// instances and their options as pending, as EC2 does; the data plane
// already serves them.
func (s *Server) launchReply(ins []*imds.Instance, fresh bool) reply {
	r := reservationXML{ReservationID: ins[0].ReservationID, OwnerID: ins[0].AccountID}
	for _, in := range ins {
		x := s.instanceXML(in)
		if fresh {
			x.State = stateXML{Code: stateCodes["pending"], Name: "pending"}
			x.MetadataOptions.State = "pending"
		}
		r.Instances.Items = append(r.Instances.Items, x)
	}
	return &runInstancesResponse{reservationXML: r}
}

func instanceIDs(ins []*imds.Instance) []string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.ID
	}
	return out
}
