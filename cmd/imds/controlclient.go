package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/internal/signedclient"
)

// This file holds what the subcommands that call a running imds's control
// listener (audit, fault, event) share: picking the action, the flags that
// reach the server, reading its JSON error answers and printing results.

// action is one action of a subcommand, such as "fault add".
type action struct {
	name string
	run  func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// runAction runs the action args[0] names with the rest of args. help, -h,
// -help and --help print usage to stdout; no action or an unknown one
// prints it to stderr and fails, naming command and the actions.
func runAction(ctx context.Context, command, usage string, actions []action, args []string, stdout, stderr io.Writer) error {
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = a.name
	}
	choices := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%s: no action given (%s)", command, choices)
	}
	for _, a := range actions {
		if a.name == args[0] {
			return a.run(ctx, args[1:], stdout, stderr)
		}
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%s: unknown action %q (%s)", command, args[0], choices)
}

// controlClientFlags are the flags every control client takes to reach
// the server.
type controlClientFlags struct {
	endpoint, credentials, profile string
	allowRemote                    bool
}

func (f *controlClientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.endpoint, "endpoint", signedclient.DefaultEndpoint, "control listener base `URL`")
	fs.StringVar(&f.credentials, "credentials", controlCredentialsPath(),
		"AWS shared-credentials `file` with the control key (serve's --control-credentials, or control-credentials in its --data-dir)")
	fs.StringVar(&f.profile, "profile", "default", "profile in the credentials file")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow an endpoint that is not a loopback address")
}

// client returns a client that signs with the flags' credentials.
func (f *controlClientFlags) client(ctx context.Context) (*signedclient.Client, error) {
	return signedclient.New(ctx, signedclient.Options{
		Endpoint: f.endpoint, CredentialsFile: f.credentials, Profile: f.profile, AllowRemote: f.allowRemote,
	})
}

// controlCredentialsPath is where `imds serve` without --data-dir or
// --control-credentials keeps the control key.
func controlCredentialsPath() string {
	return filepath.Join(stateDir(""), control.CredentialsFileName)
}

// controlError turns a JSON error answer into its message; other errors
// pass unchanged.
func controlError(err error) error {
	var se *signedclient.Error
	if !errors.As(err, &se) {
		return err
	}
	var body struct{ Code, Message string }
	if json.Unmarshal([]byte(se.Body), &body) != nil || body.Message == "" {
		return err
	}
	return fmt.Errorf("%s (%s)", body.Message, body.Code)
}

// tableTime shortens a time to whole seconds in UTC for a table cell; "-"
// for none.
func tableTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// printJSON writes v indented by two spaces, for --json.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
