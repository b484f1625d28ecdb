package control

import (
	"context"
	"slices"

	"github.com/imds-dev/imds"
)

var terminateInstancesParams = []string{"InstanceId.#", "DryRun", "Force", "SkipOsShutdown"}

type terminateInstancesResponse struct {
	XMLName struct{} `xml:"TerminateInstancesResponse"`
	head
	Instances items[stateChangeXML] `xml:"instancesSet"`
}

// stateChangeXML is EC2's InstanceStateChange.
type stateChangeXML struct {
	InstanceID    string   `xml:"instanceId"`
	CurrentState  stateXML `xml:"currentState"`
	PreviousState stateXML `xml:"previousState"`
}

// terminateInstances is TerminateInstances. A terminated instance stays in
// the store, so that importing an inventory again does not bring it back,
// and the data plane stops serving it before the answer (the fleet drops
// terminated instances when they are applied). The answer says
// shutting-down, as EC2's does; DescribeInstances says terminated.
func (s *Server) terminateInstances(ctx context.Context, p params) (reply, *apiError) {
	var ids []string
	for _, id := range p.list("InstanceId") {
		if err := checkInstanceID(id); err != nil {
			return nil, err
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, errMissing("InstanceId")
	}
	for _, name := range []string{"DryRun", "Force", "SkipOsShutdown"} {
		if _, err := p.boolean(name); err != nil {
			return nil, err
		}
	}
	dryRun, _ := p.boolean("DryRun")

	// Every instance must exist before any is terminated.
	var missing []string
	for _, id := range ids {
		if _, err := s.store.Get(ctx, id); err != nil {
			if e := s.storeError(err, id); e.Code != codeInstanceNotFound {
				return nil, e
			}
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, errNotFound(missing)
	}
	if dryRun {
		return nil, errDryRun
	}

	out := &terminateInstancesResponse{}
	for _, id := range ids {
		var before imds.Instance
		_, err := s.change(ctx, id, func(in *imds.Instance) error {
			before.State = in.State
			in.State = "terminated"
			return nil
		})
		if err != nil {
			return nil, err
		}
		change := stateChangeXML{
			InstanceID:    id,
			PreviousState: stateXML{Code: stateCode(&before), Name: stateName(&before)},
			CurrentState:  stateXML{Code: stateCodes["shutting-down"], Name: "shutting-down"},
		}
		if before.State == "terminated" {
			change.CurrentState = change.PreviousState
		}
		out.Instances.Items = append(out.Instances.Items, change)
	}
	s.log.Info("instances terminated", "instances", ids)
	return out, nil
}
