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
	change, err := readOptionsChange(p)
	if err != nil {
		return nil, err
	}
	dryRun, err := p.boolean("DryRun")
	if err != nil {
		return nil, err
	}
	in, err := s.setOptions(ctx, id, change, dryRun)
	if err != nil {
		return nil, err
	}
	return &modifyOptionsResponse{InstanceID: id, Options: optionsOf(in.Options, "pending")}, nil
}

// setOptions is the one way metadata options change, for the Query action
// and the console alike: the change is checked, the instance's state and
// the changed instance as a whole are checked, and the result is stored and
// applied. With dryRun it only checks, answering errDryRun on success.
func (s *Server) setOptions(ctx context.Context, id string, c OptionsChange, dryRun bool) (*imds.Instance, *apiError) {
	if err := checkInstanceID(id); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	update := func(in *imds.Instance) error {
		if in.State == "terminated" {
			return errorf(codeIncorrectState, "The instance '%s' is not in a state from which it can be modified.", in.ID)
		}
		c.apply(&in.Options)
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
	return in, nil
}

// optionChanges reads the option parameters and returns a function that
// sets the ones given.
func optionChanges(p params) (func(*imds.MetadataOptions), *apiError) {
	c, err := readOptionsChange(p)
	if err != nil {
		return nil, err
	}
	return c.apply, nil
}

// readOptionsChange reads the option parameters, checking them in the
// order the action always has: the named values first, then the hop limit.
func readOptionsChange(p params) (OptionsChange, *apiError) {
	var c OptionsChange
	for _, e := range c.enums() {
		if v, ok := p.str(e.param); ok {
			*e.value = &v
		}
	}
	if err := c.checkEnums(); err != nil {
		return c, err
	}
	hop, ok, err := p.integer("HttpPutResponseHopLimit")
	if err != nil {
		return c, err
	}
	if ok {
		c.HTTPPutHopLimit = &hop
	}
	return c, c.checkHop()
}

// enumOption is one option whose value comes from a fixed set: its
// parameter name, where a change holds it and where the options hold it.
type enumOption struct {
	param   string
	value   **string
	allowed []string
	field   func(*imds.MetadataOptions) *string
}

// enums lists c's named-value options in the order they are checked.
func (c *OptionsChange) enums() []enumOption {
	onOff := []string{imds.Enabled, imds.Disabled}
	return []enumOption{
		{"HttpTokens", &c.HTTPTokens, []string{imds.TokensOptional, imds.TokensRequired},
			func(o *imds.MetadataOptions) *string { return &o.HTTPTokens }},
		{"HttpEndpoint", &c.HTTPEndpoint, onOff,
			func(o *imds.MetadataOptions) *string { return &o.HTTPEndpoint }},
		{"HttpProtocolIpv6", &c.HTTPProtocolIPv6, onOff,
			func(o *imds.MetadataOptions) *string { return &o.HTTPProtocolIPv6 }},
		{"InstanceMetadataTags", &c.InstanceMetadataTags, onOff,
			func(o *imds.MetadataOptions) *string { return &o.InstanceMetadataTags }},
	}
}

// check refuses a value EC2 would refuse.
func (c *OptionsChange) check() *apiError {
	if err := c.checkEnums(); err != nil {
		return err
	}
	return c.checkHop()
}

func (c *OptionsChange) checkEnums() *apiError {
	for _, e := range c.enums() {
		if v := *e.value; v != nil && !slices.Contains(e.allowed, *v) {
			return errBadValue(e.param, *v)
		}
	}
	return nil
}

func (c *OptionsChange) checkHop() *apiError {
	if h := c.HTTPPutHopLimit; h != nil && (*h < imds.MinHopLimit || *h > imds.MaxHopLimit) {
		return errorf(codeInvalidValue, "The HttpPutResponseHopLimit must be between %d and %d, not %d.",
			imds.MinHopLimit, imds.MaxHopLimit, *h)
	}
	return nil
}

// apply sets the options c names; c must have passed check.
func (c *OptionsChange) apply(o *imds.MetadataOptions) {
	for _, e := range c.enums() {
		if v := *e.value; v != nil {
			*e.field(o) = *v
		}
	}
	if h := c.HTTPPutHopLimit; h != nil {
		o.HTTPPutHopLimit = *h
	}
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
