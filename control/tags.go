package control

import (
	"context"
	"encoding/xml"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/imds-dev/imds"
)

// EC2's limits on tags.
const (
	maxTagKey   = 128 // characters
	maxTagValue = 256 // characters
	maxUserTags = 50  // per resource, aws: tags not counted
)

// resourceIDRe is the shape of any EC2 resource id; only instances are
// kept here.
var resourceIDRe = regexp.MustCompile(`^[a-z]+(-[a-z]+)*-([0-9a-f]{8}|[0-9a-f]{17})$`)

var (
	createTagsParams   = []string{"ResourceId.#", "Tag.#.Key", "Tag.#.Value", "DryRun"}
	deleteTagsParams   = createTagsParams
	describeTagsParams = []string{"Filter.#.Name", "Filter.#.Value.#", "MaxResults", "NextToken", "DryRun"}
)

// returnResponse is the answer of actions that only say they succeeded.
type returnResponse struct {
	XMLName xml.Name
	head
	Return bool `xml:"return"`
}

// tagParam is one Tag.N; HasValue tells an empty value from none.
type tagParam struct {
	Key, Value string
	HasValue   bool
}

// resourceIDs reads ResourceId.N, which must name instances.
func resourceIDs(p params) ([]string, *apiError) {
	ids := p.list("ResourceId")
	if len(ids) == 0 {
		return nil, errMissing("ResourceId.1")
	}
	for _, id := range ids {
		switch {
		case instanceIDRe.MatchString(id):
		case resourceIDRe.MatchString(id):
			return nil, errorf(codeUnsupportedOperation, "imds keeps tags only for instances, not for '%s'.", id)
		default:
			return nil, errorf(codeInvalidID, "The ID '%s' is not valid", id)
		}
	}
	return ids, nil
}

// tagParams reads Tag.N.Key and Tag.N.Value.
func tagParams(p params) ([]tagParam, *apiError) {
	var out []tagParam
	for _, g := range p.groups("Tag") {
		key, ok := g.Fields.str("Key")
		if !ok {
			return nil, errorf(codeMissingParameter, "The request must contain the parameter Tag.%d.Key", g.N)
		}
		value, has := g.Fields.str("Value")
		out = append(out, tagParam{Key: key, Value: value, HasValue: has})
	}
	return out, nil
}

// checkTag refuses a tag EC2 would: a key that is empty or longer than
// maxTagKey characters, a value longer than maxTagValue, or a key already
// in seen. It adds the key to seen, so that one map covers a request.
func checkTag(t tagParam, seen map[string]bool) *apiError {
	switch {
	case t.Key == "" || utf8.RuneCountInString(t.Key) > maxTagKey:
		return errorf(codeInvalidValue, "Tag key must be between 1 and %d characters, not '%s'.", maxTagKey, t.Key)
	case utf8.RuneCountInString(t.Value) > maxTagValue:
		return errorf(codeInvalidValue, "Tag value for key '%s' is longer than %d characters.", t.Key, maxTagValue)
	case seen[t.Key]:
		return errorf(codeInvalidValue, "Duplicate tag key '%s' specified.", t.Key)
	}
	seen[t.Key] = true
	return nil
}

// changeTags applies fn to every instance in ids: first to copies, so that
// nothing is changed unless every instance accepts the change, then for
// real. With dryRun it stops after the check.
func (s *Server) changeTags(ctx context.Context, ids []string, dryRun bool, fn func(*imds.Instance) error) *apiError {
	var missing []string
	for _, id := range ids {
		in, err := s.store.Get(ctx, id)
		if err != nil {
			if e := s.storeError(err, id); e.Code == codeInstanceNotFound {
				missing = append(missing, id)
				continue
			} else {
				return e
			}
		}
		if err := fn(in); err != nil {
			return s.storeError(err, id)
		}
	}
	if len(missing) > 0 {
		return errNotFound(missing)
	}
	if dryRun {
		return errDryRun
	}
	for _, id := range ids {
		if _, err := s.change(ctx, id, fn); err != nil {
			return err
		}
	}
	return nil
}

// createTags is CreateTags: new keys are appended, existing keys get the
// new value. Unlike EC2, keys starting with aws: are accepted, so that
// tests can set the tags Auto Scaling or CloudFormation would.
func (s *Server) createTags(ctx context.Context, p params) (reply, *apiError) {
	ids, err := resourceIDs(p)
	if err != nil {
		return nil, err
	}
	tags, err := tagParams(p)
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, errMissing("Tag.1.Key")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if err := checkTag(t, seen); err != nil {
			return nil, err
		}
	}
	dryRun, err := p.boolean("DryRun")
	if err != nil {
		return nil, err
	}

	add := func(in *imds.Instance) error {
		for _, t := range tags {
			i := slices.IndexFunc(in.Tags, func(x imds.Tag) bool { return x.Key == t.Key })
			if i >= 0 {
				in.Tags[i].Value = t.Value
			} else {
				in.Tags = append(in.Tags, imds.Tag{Key: t.Key, Value: t.Value})
			}
		}
		if userTags(in.Tags) > maxUserTags {
			return errorf(codeTagLimitExceeded, "The maximum number of Tags for a resource has been reached.")
		}
		if err := checkInstance(in); err != nil {
			return err
		}
		return nil
	}
	if err := s.changeTags(ctx, ids, dryRun, add); err != nil {
		return nil, err
	}
	s.log.Info("tags created", "instances", ids, "keys", tagKeys(tags))
	return &returnResponse{XMLName: xmlName("CreateTagsResponse"), Return: true}, nil
}

// deleteTags is DeleteTags: a tag given with a value is deleted only when
// the value matches; with no tags at all, every tag not starting with aws:
// is deleted.
func (s *Server) deleteTags(ctx context.Context, p params) (reply, *apiError) {
	ids, err := resourceIDs(p)
	if err != nil {
		return nil, err
	}
	tags, err := tagParams(p)
	if err != nil {
		return nil, err
	}
	dryRun, err := p.boolean("DryRun")
	if err != nil {
		return nil, err
	}
	drop := func(in *imds.Instance) error {
		in.Tags = slices.DeleteFunc(in.Tags, func(x imds.Tag) bool {
			if len(tags) == 0 {
				return !strings.HasPrefix(x.Key, "aws:")
			}
			return slices.ContainsFunc(tags, func(t tagParam) bool {
				return t.Key == x.Key && (!t.HasValue || t.Value == x.Value)
			})
		})
		return nil
	}
	if err := s.changeTags(ctx, ids, dryRun, drop); err != nil {
		return nil, err
	}
	s.log.Info("tags deleted", "instances", ids, "keys", tagKeys(tags))
	return &returnResponse{XMLName: xmlName("DeleteTagsResponse"), Return: true}, nil
}

func xmlName(local string) xml.Name { return xml.Name{Local: local} }

func userTags(tags []imds.Tag) int {
	n := 0
	for _, t := range tags {
		if !strings.HasPrefix(t.Key, "aws:") {
			n++
		}
	}
	return n
}

func tagKeys(tags []tagParam) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.Key
	}
	return out
}

type describeTagsResponse struct {
	XMLName struct{} `xml:"DescribeTagsResponse"`
	head
	Tags      items[tagDescriptionXML] `xml:"tagSet"`
	NextToken string                   `xml:"nextToken,omitempty"`
}

type tagDescriptionXML struct {
	ResourceID   string `xml:"resourceId"`
	ResourceType string `xml:"resourceType"`
	Key          string `xml:"key"`
	Value        string `xml:"value"`
}

var tagFilters = map[string]func(d tagDescriptionXML) string{
	"resource-id":   func(d tagDescriptionXML) string { return d.ResourceID },
	"resource-type": func(d tagDescriptionXML) string { return d.ResourceType },
	"key":           func(d tagDescriptionXML) string { return d.Key },
	"value":         func(d tagDescriptionXML) string { return d.Value },
}

// describeTags is DescribeTags over every instance's tags, ordered by
// resource id and key.
func (s *Server) describeTags(ctx context.Context, p params) (reply, *apiError) {
	filters, err := parseFilters(p, func(name string) bool { _, ok := tagFilters[name]; return ok })
	if err != nil {
		return nil, err
	}
	size, after, err := page(p)
	if err != nil {
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
	if dryRun {
		return nil, errDryRun
	}

	var list []tagDescriptionXML
	for _, in := range all {
		for _, t := range in.Tags {
			d := tagDescriptionXML{ResourceID: in.ID, ResourceType: "instance", Key: t.Key, Value: t.Value}
			if tagMatches(d, filters) {
				list = append(list, d)
			}
		}
	}
	slices.SortFunc(list, func(a, b tagDescriptionXML) int { return strings.Compare(tagCursor(a), tagCursor(b)) })
	list, next := paginate(list, tagCursor, size, after)
	return &describeTagsResponse{Tags: items[tagDescriptionXML]{list}, NextToken: next}, nil
}

// tagCursor orders tag descriptions; NUL sorts before any key character.
func tagCursor(d tagDescriptionXML) string { return d.ResourceID + "\x00" + d.Key }

func tagMatches(d tagDescriptionXML, filters []filter) bool {
	for _, f := range filters {
		if !f.matchAny(tagFilters[f.Name](d)) {
			return false
		}
	}
	return true
}
