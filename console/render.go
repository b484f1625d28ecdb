package console

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"time"
)

//go:embed templates/*.html static/console.css
var files embed.FS

// pages are the parsed templates, each page with the layout, by name.
var pages = func() map[string]*template.Template {
	funcs := template.FuncMap{"day": day, "clock": clock, "onOff": onOff}
	m := map[string]*template.Template{}
	for _, name := range []string{"login", "instances", "options", "error"} {
		m[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(files,
			"templates/layout.html", "templates/"+name+".html"))
	}
	return m
}()

// page is what the layout shows around a page's own content.
type page struct {
	Title string
	KeyID string // who is signed in; empty on the login and error pages
	Token string // the session's form token, for the sign-out form
	Flash string
	Data  any
}

// render writes a page. It renders into a buffer first, so a template
// failure is a clean 500 rather than half a page.
func (c *console) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		c.log.Error("console page failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// errorPage is what the error template shows.
type errorPage struct {
	Status  int
	Message string
}

func (c *console) renderError(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	c.render(w, r, status, "error", page{Title: title, Data: errorPage{Status: status, Message: msg}})
}

func (c *console) serveNotFound(w http.ResponseWriter, r *http.Request) {
	c.renderError(w, r, http.StatusNotFound, "Not found", "There is no such page in the console.")
}

// signedIn returns the request's session, or sends the browser to the
// login form and returns ok false.
func (c *console) signedIn(w http.ResponseWriter, r *http.Request) (string, session, bool) {
	id, s, ok := c.current(r)
	if !ok {
		http.Redirect(w, r, "/console/login", http.StatusSeeOther)
	}
	return id, s, ok
}

// pageFor starts the layout data of a signed-in page, taking the
// session's flash message.
func (c *console) pageFor(id string, s session, title string, data any) page {
	return page{Title: title, KeyID: s.keyID, Token: s.csrf, Flash: c.sessions.takeFlash(id), Data: data}
}

func serveCSS(w http.ResponseWriter, r *http.Request) {
	css, err := files.ReadFile("static/console.css")
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Write(css)
}

// day and clock split a time for a narrow cell.
func day(t time.Time) string   { return t.UTC().Format("2006-01-02") }
func clock(t time.Time) string { return t.UTC().Format("15:04:05 UTC") }

// onOff shortens enabled and disabled for a dense cell.
func onOff(v string) string {
	switch v {
	case "enabled":
		return "on"
	case "disabled":
		return "off"
	}
	return v
}
