package control

import (
	"context"
	"errors"
	"regexp"
	"slices"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/tree"
)

// instanceIDRe is the shape of an instance id: i- and 8 or 17 hex digits.
var instanceIDRe = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

func checkInstanceID(id string) *apiError {
	if !instanceIDRe.MatchString(id) {
		return errMalformedID(id)
	}
	return nil
}

var modifyOptionsParams = []string{
	"InstanceId", "HttpTokens", "HttpPutResponseHopLimit", "HttpEndpoint",
	"HttpProtocolIpv6", "InstanceMetadataTags", "DryRun",
}

// optionsXML is InstanceMetadataOptionsResponse.
type optionsXML struct {
	State                   string `xml:"state"`
	HTTPTokens              string `xml:"httpTokens"`
	HTTPPutResponseHopLimit int    `xml:"httpPutResponseHopLimit"`
	HTTPEndpoint            string `xml:"httpEndpoint"`
	HTTPProtocolIPv6        string `xml:"httpProtocolIpv6"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags"`
}

func optionsOf(o imds.MetadataOptions, state string) optionsXML {
	return optionsXML{
		State:                   state,
		HTTPTokens:              o.HTTPTokens,
		HTTPPutResponseHopLimit: o.HTTPPutHopLimit,
		HTTPEndpoint:            o.HTTPEndpoint,
		HTTPProtocolIPv6:        o.HTTPProtocolIPv6,
		InstanceMetadataTags:    o.InstanceMetadataTags,
	}
}

type modifyOptionsResponse struct {
	XMLName struct{} `xml:"ModifyInstanceMetadataOptionsResponse"`
	head
	InstanceID string     `xml:"instanceId"`
	Options    optionsXML `xml:"instanceMetadataOptions"`
}

// modifyOptions is ModifyInstanceMetadataOptions. The change is stored and
// applied to the data plane before the answer; the answer still says
// "pending", as EC2's does, and DescribeInstances says "applied".
func (s *Server) modifyOptions(ctx context.Context, p params) (reply, *apiError) {
	id, ok := p.str("InstanceId")
	if !ok {
		return nil, errMissing("InstanceId")
	}
	if err := checkInstanceID(id); err != nil {
		return nil, err
	}
	set, err := optionChanges(p)
	if err != nil {
		return nil, err
	}
	dryRun, err := p.boolean("DryRun")
	if err != nil {
		return nil, err
	}
	update := func(in *imds.Instance) error {
		if in.State == "terminated" {
			return errorf(codeIncorrectState, "The instance '%s' is not in a state from which it can be modified.", in.ID)
		}
		set(&in.Options)
		if err := checkInstance(in); err != nil {
			return err
		}
		return nil
	}

	if dryRun {
		return nil, s.dryRun(ctx, id, update)
	}
	in, err := s.change(ctx, id, update)
	if err != nil {
		return nil, err
	}
	s.log.Info("metadata options changed", "instance", id,
		"http_tokens", in.Options.HTTPTokens, "http_endpoint", in.Options.HTTPEndpoint,
		"hop_limit", in.Options.HTTPPutHopLimit, "ipv6", in.Options.HTTPProtocolIPv6,
		"tags", in.Options.InstanceMetadataTags)
	return &modifyOptionsResponse{InstanceID: id, Options: optionsOf(in.Options, "pending")}, nil
}

// optionChanges reads the option parameters and returns a function that
// sets the ones given.
func optionChanges(p params) (func(*imds.MetadataOptions), *apiError) {
	var steps []func(*imds.MetadataOptions)
	enum := func(name string, field func(*imds.MetadataOptions) *string, allowed ...string) *apiError {
		v, ok := p.str(name)
		if !ok {
			return nil
		}
		if !slices.Contains(allowed, v) {
			return errBadValue(name, v)
		}
		steps = append(steps, func(o *imds.MetadataOptions) { *field(o) = v })
		return nil
	}
	for _, err := range []*apiError{
		enum("HttpTokens", func(o *imds.MetadataOptions) *string { return &o.HTTPTokens }, imds.TokensOptional, imds.TokensRequired),
		enum("HttpEndpoint", func(o *imds.MetadataOptions) *string { return &o.HTTPEndpoint }, imds.Enabled, imds.Disabled),
		enum("HttpProtocolIpv6", func(o *imds.MetadataOptions) *string { return &o.HTTPProtocolIPv6 }, imds.Enabled, imds.Disabled),
		enum("InstanceMetadataTags", func(o *imds.MetadataOptions) *string { return &o.InstanceMetadataTags }, imds.Enabled, imds.Disabled),
	} {
		if err != nil {
			return nil, err
		}
	}
	hop, ok, err := p.integer("HttpPutResponseHopLimit")
	if err != nil {
		return nil, err
	}
	if ok {
		if hop < imds.MinHopLimit || hop > imds.MaxHopLimit {
			return nil, errorf(codeInvalidValue, "The HttpPutResponseHopLimit must be between %d and %d, not %d.",
				imds.MinHopLimit, imds.MaxHopLimit, hop)
		}
		steps = append(steps, func(o *imds.MetadataOptions) { o.HTTPPutHopLimit = hop })
	}
	return func(o *imds.MetadataOptions) {
		for _, step := range steps {
			step(o)
		}
	}, nil
}

// checkInstance refuses a changed instance that the data plane could not
// serve faithfully: tags exposed while a key cannot be a path, or anything
// else config.Validate finds.
func checkInstance(in *imds.Instance) *apiError {
	if in.Options.TagsEnabled() {
		for _, t := range in.Tags {
			if !tree.TagKeyServable(t.Key) {
				return errorf(codeInvalidValue, "The tag key '%s' cannot be exposed in instance metadata: "+
					"keys may use only letters, digits and + - = . , _ : @, and may not be '.', '..' or '_index'. "+
					"Change the key or keep InstanceMetadataTags disabled.", t.Key)
			}
		}
	}
	if err := config.Validate(in); err != nil {
		var fe *config.FieldError
		if errors.As(err, &fe) {
			return errorf(codeInvalidValue, "%s: %s", fe.Field, fe.Problem)
		}
		return errorf(codeInvalidValue, "%s", err.Error())
	}
	return nil
}

// dryRun checks that fn would succeed on the instance, without storing
// anything, and answers as EC2 does when it would.
func (s *Server) dryRun(ctx context.Context, id string, fn func(*imds.Instance) error) *apiError {
	in, err := s.store.Get(ctx, id)
	if err != nil {
		return s.storeError(err, id)
	}
	if err := fn(in); err != nil {
		return s.storeError(err, id)
	}
	return errDryRun
}
