// Package inventory turns the JSON that `aws ec2 describe-instances` prints
// into instances, so that a real fleet's inventory can be replayed locally,
// and imports them into a store without undoing later changes.
package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
)

// Parse reads describe-instances output (Reservations[].Instances[]; the
// output of run-instances is accepted as one reservation) and returns its
// instances in file order. Each error names the reservation and instance
// index and the field, in the CLI's spelling. Every instance is checked
// with config.Validate, as the control plane would check it.
func Parse(r io.Reader) ([]*imds.Instance, error) {
	var doc describeOutput
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("read describe-instances output: %w", describeJSONError(err))
	}
	reservations := doc.Reservations
	if reservations == nil && doc.Instances != nil {
		one, _ := json.Marshal(reservation{ReservationID: doc.ReservationID, OwnerID: doc.OwnerID, Instances: doc.Instances})
		reservations = []json.RawMessage{one}
	}
	if reservations == nil {
		return nil, errors.New("read describe-instances output: no Reservations")
	}

	var out []*imds.Instance
	seen := map[string]string{} // instance id -> where it appeared first
	for i, raw := range reservations {
		var res reservation
		if err := json.Unmarshal(raw, &res); err != nil {
			return nil, fmt.Errorf("Reservations[%d]: %w", i, describeJSONError(err))
		}
		for j, raw := range res.Instances {
			where := fmt.Sprintf("Reservations[%d].Instances[%d]", i, j)
			in, err := parseInstance(&res, raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			if first, ok := seen[in.ID]; ok {
				return nil, fmt.Errorf("%s: InstanceId: %s repeats %s", where, in.ID, first)
			}
			seen[in.ID] = where
			out = append(out, in)
		}
	}
	return out, nil
}

func parseInstance(res *reservation, raw json.RawMessage) (*imds.Instance, error) {
	var x instance
	if err := json.Unmarshal(raw, &x); err != nil {
		return nil, describeJSONError(err)
	}
	if x.InstanceID == "" {
		return nil, errors.New("InstanceId: required")
	}
	in, err := convert(res, &x)
	if err != nil {
		return nil, fmt.Errorf("(%s) %w", x.InstanceID, err)
	}
	if err := config.Validate(in); err != nil {
		return nil, fmt.Errorf("(%s) not a coherent instance: %w", x.InstanceID, err)
	}
	return in, nil
}

// describeJSONError rephrases decoding errors with the field path.
func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s: got a JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("at byte %d: %w", se.Offset, err)
	}
	return err
}
