package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/control"
)

// optionsPage is what the "Modify instance metadata options" template
// shows: the instance, the values in the form (the stored ones, or what
// was sent after a refusal), and why a change was refused.
type optionsPage struct {
	ID, Name, State string
	Tokens          string
	Endpoint        string
	IPv6            string
	Tags            string
	HopLimit        string
	HopError        string           // the hop limit field's own problem
	Refusal         *control.Refusal // the control plane's answer
}

// serveOptionsForm shows the form filled with the stored options.
func (c *console) serveOptionsForm(w http.ResponseWriter, r *http.Request) {
	sid, s, ok := c.signedIn(w, r)
	if !ok {
		return
	}
	in, ok := c.instance(w, r)
	if !ok {
		return
	}
	p := formOf(in)
	c.render(w, r, http.StatusOK, "options", c.pageFor(sid, s, "Modify instance metadata options", p))
}

// instance loads the instance the path names, answering 404 or 503 itself.
func (c *console) instance(w http.ResponseWriter, r *http.Request) (*imds.Instance, bool) {
	in, err := c.store.Get(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, imds.ErrNotFound):
		c.renderError(w, r, http.StatusNotFound, "Not found", "There is no instance with that id.")
		return nil, false
	case err != nil:
		c.log.Warn("console cannot read instance", "err", err)
		c.renderError(w, r, http.StatusServiceUnavailable, "Unavailable", "The instance store cannot be read right now. Try again shortly.")
		return nil, false
	}
	return in, true
}

func formOf(in *imds.Instance) optionsPage {
	p := optionsPage{
		ID:       in.ID,
		State:    in.State,
		Tokens:   in.Options.HTTPTokens,
		Endpoint: in.Options.HTTPEndpoint,
		IPv6:     in.Options.HTTPProtocolIPv6,
		Tags:     in.Options.InstanceMetadataTags,
		HopLimit: strconv.Itoa(in.Options.HTTPPutHopLimit),
	}
	for _, t := range in.Tags {
		if t.Key == "Name" {
			p.Name = t.Value
		}
	}
	return p
}

// serveOptions applies the form through the control plane. A change it
// refuses is shown with EC2's message beside the values sent; a change it
// takes returns the browser to the instances with a confirmation.
func (c *console) serveOptions(w http.ResponseWriter, r *http.Request) {
	sid, s, ok := c.guard(w, r)
	if !ok {
		return
	}
	in, ok := c.instance(w, r)
	if !ok {
		return
	}

	p := formOf(in)
	change := readChange(r, &p)
	if p.HopError != "" {
		c.render(w, r, http.StatusBadRequest, "options", c.pageFor(sid, s, "Modify instance metadata options", p))
		return
	}
	changed, err := c.ctl.ModifyMetadataOptions(r.Context(), in.ID, change)
	if err != nil {
		var ref *control.Refusal
		if !errors.As(err, &ref) {
			ref = &control.Refusal{Code: "InternalError", Message: "An internal error has occurred."}
		}
		p.Refusal = ref
		c.render(w, r, http.StatusBadRequest, "options", c.pageFor(sid, s, "Modify instance metadata options", p))
		return
	}

	o := changed.Options
	c.sessions.setFlash(sid, fmt.Sprintf("Metadata options of %s changed: IMDSv2 %s, endpoint %s, hop limit %d, tags in metadata %s.",
		changed.ID, o.HTTPTokens, o.HTTPEndpoint, o.HTTPPutHopLimit, o.InstanceMetadataTags))
	c.log.Info("console changed metadata options", "instance", changed.ID, "key", s.keyID)
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

// readChange turns the posted form into a change, copying what was sent
// into p so a refused form shows it again. A field left out is left
// unchanged; values are passed on as sent, for the control plane to judge.
func readChange(r *http.Request, p *optionsPage) control.OptionsChange {
	var ch control.OptionsChange
	field := func(name string, shown *string) *string {
		if _, sent := r.PostForm[name]; !sent {
			return nil
		}
		v := r.PostForm.Get(name)
		*shown = v
		return &v
	}
	ch.HTTPTokens = field("http_tokens", &p.Tokens)
	ch.HTTPEndpoint = field("http_endpoint", &p.Endpoint)
	ch.HTTPProtocolIPv6 = field("http_protocol_ipv6", &p.IPv6)
	ch.InstanceMetadataTags = field("instance_metadata_tags", &p.Tags)
	if _, sent := r.PostForm["hop_limit"]; sent {
		v := strings.TrimSpace(r.PostForm.Get("hop_limit"))
		p.HopLimit = v
		n, err := strconv.Atoi(v)
		if err != nil {
			p.HopError = fmt.Sprintf("Enter a whole number from %d to %d.", imds.MinHopLimit, imds.MaxHopLimit)
			return ch
		}
		ch.HTTPPutHopLimit = &n
	}
	return ch
}
