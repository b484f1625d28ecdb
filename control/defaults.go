package control

import (
	"context"
	"slices"
	"sync"

	"github.com/imds-dev/imds"
)

// noPreference clears an account default.
const noPreference = "no-preference"

// DefaultValues are the account's instance metadata defaults. An empty
// string, or a zero hop limit, means no preference: the instance keeps
// EC2's own default.
type DefaultValues struct {
	HTTPTokens           string
	HTTPEndpoint         string
	HTTPPutHopLimit      int
	InstanceMetadataTags string
	// HTTPTokensEnforced is stored and reported; imds does not yet refuse
	// launches or changes that it would forbid.
	HTTPTokensEnforced string
}

// Defaults hold the account-level metadata defaults that
// ModifyInstanceMetadataDefaults sets. They apply to instances created
// after the change, never to running ones, as on EC2. They are kept in
// memory and lost on restart. Defaults is safe for concurrent use; the zero
// value has no preferences.
type Defaults struct {
	mu sync.Mutex
	v  DefaultValues // guarded by mu
}

// Get returns the current defaults.
func (d *Defaults) Get() DefaultValues {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.v
}

// Set replaces the defaults.
func (d *Defaults) Set(v DefaultValues) {
	d.mu.Lock()
	d.v = v
	d.mu.Unlock()
}

// Apply sets the options the account has a preference for. Whoever creates
// an instance calls it before storing the instance.
func (d *Defaults) Apply(o *imds.MetadataOptions) {
	v := d.Get()
	if v.HTTPTokens != "" {
		o.HTTPTokens = v.HTTPTokens
	}
	if v.HTTPEndpoint != "" {
		o.HTTPEndpoint = v.HTTPEndpoint
	}
	if v.HTTPPutHopLimit != 0 {
		o.HTTPPutHopLimit = v.HTTPPutHopLimit
	}
	if v.InstanceMetadataTags != "" {
		o.InstanceMetadataTags = v.InstanceMetadataTags
	}
}

var modifyDefaultsParams = []string{
	"HttpTokens", "HttpPutResponseHopLimit", "HttpEndpoint", "InstanceMetadataTags",
	"HttpTokensEnforced", "DryRun",
}

type modifyDefaultsResponse struct {
	XMLName struct{} `xml:"ModifyInstanceMetadataDefaultsResponse"`
	head
	Return bool `xml:"return"`
}

// modifyDefaults is ModifyInstanceMetadataDefaults: each option given is
// set, or cleared with "no-preference" (-1 for the hop limit).
func (s *Server) modifyDefaults(_ context.Context, p params) (reply, *apiError) {
	dryRun, err := p.boolean("DryRun")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.defaults.Get()
	for _, f := range []struct {
		name    string
		field   *string
		allowed []string
	}{
		{"HttpTokens", &v.HTTPTokens, []string{imds.TokensOptional, imds.TokensRequired}},
		{"HttpEndpoint", &v.HTTPEndpoint, []string{imds.Enabled, imds.Disabled}},
		{"InstanceMetadataTags", &v.InstanceMetadataTags, []string{imds.Enabled, imds.Disabled}},
		{"HttpTokensEnforced", &v.HTTPTokensEnforced, []string{imds.Enabled, imds.Disabled}},
	} {
		val, ok := p.str(f.name)
		switch {
		case !ok:
		case val == noPreference:
			*f.field = ""
		case slices.Contains(f.allowed, val):
			*f.field = val
		default:
			return nil, errBadValue(f.name, val)
		}
	}
	hop, ok, err := p.integer("HttpPutResponseHopLimit")
	switch {
	case err != nil:
		return nil, err
	case !ok:
	case hop == -1:
		v.HTTPPutHopLimit = 0
	case hop < imds.MinHopLimit || hop > imds.MaxHopLimit:
		return nil, errorf(codeInvalidValue, "The HttpPutResponseHopLimit must be between %d and %d, or -1 for no preference, not %d.",
			imds.MinHopLimit, imds.MaxHopLimit, hop)
	default:
		v.HTTPPutHopLimit = hop
	}
	if dryRun {
		return nil, errDryRun
	}
	s.defaults.Set(v)
	s.log.Info("account metadata defaults changed", "http_tokens", v.HTTPTokens, "http_endpoint", v.HTTPEndpoint,
		"hop_limit", v.HTTPPutHopLimit, "tags", v.InstanceMetadataTags, "http_tokens_enforced", v.HTTPTokensEnforced)
	return &modifyDefaultsResponse{Return: true}, nil
}

var getDefaultsParams = []string{"DryRun"}

type getDefaultsResponse struct {
	XMLName struct{} `xml:"GetInstanceMetadataDefaultsResponse"`
	head
	AccountLevel accountLevelXML `xml:"accountLevel"`
}

type accountLevelXML struct {
	HTTPTokens              string `xml:"httpTokens,omitempty"`
	HTTPPutResponseHopLimit int    `xml:"httpPutResponseHopLimit,omitempty"`
	HTTPEndpoint            string `xml:"httpEndpoint,omitempty"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags,omitempty"`
	ManagedBy               string `xml:"managedBy"`
	HTTPTokensEnforced      string `xml:"httpTokensEnforced,omitempty"`
}

// getDefaults is GetInstanceMetadataDefaults; options without a preference
// are left out, as EC2 does.
func (s *Server) getDefaults(_ context.Context, p params) (reply, *apiError) {
	dryRun, err := p.boolean("DryRun")
	if err != nil {
		return nil, err
	}
	if dryRun {
		return nil, errDryRun
	}
	v := s.defaults.Get()
	return &getDefaultsResponse{AccountLevel: accountLevelXML{
		HTTPTokens:              v.HTTPTokens,
		HTTPPutResponseHopLimit: v.HTTPPutHopLimit,
		HTTPEndpoint:            v.HTTPEndpoint,
		InstanceMetadataTags:    v.InstanceMetadataTags,
		ManagedBy:               "account",
		HTTPTokensEnforced:      v.HTTPTokensEnforced,
	}}, nil
}
