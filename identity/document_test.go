package identity

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// specSample is the document of SPEC 5.1, byte for byte.
const specSample = `{
  "accountId" : "123456789012",
  "architecture" : "x86_64",
  "availabilityZone" : "us-east-1b",
  "billingProducts" : null,
  "devpayProductCodes" : null,
  "marketplaceProductCodes" : null,
  "imageId" : "ami-0c7217cdde317cfec",
  "instanceId" : "i-0b02d936754a6d637",
  "instanceType" : "t2.micro",
  "kernelId" : null,
  "pendingTime" : "2024-02-15T14:12:11Z",
  "privateIp" : "172.31.17.154",
  "ramdiskId" : null,
  "region" : "us-east-1",
  "version" : "2017-09-30"
}`

// specDocument returns the Document that should marshal to specSample.
func specDocument() Document {
	return Document{
		AccountID:        "123456789012",
		Architecture:     "x86_64",
		AvailabilityZone: "us-east-1b",
		ImageID:          "ami-0c7217cdde317cfec",
		InstanceID:       "i-0b02d936754a6d637",
		InstanceType:     "t2.micro",
		PendingTime:      time.Date(2024, 2, 15, 14, 12, 11, 0, time.UTC),
		PrivateIP:        "172.31.17.154",
		Region:           "us-east-1",
		Version:          "2017-09-30",
	}
}

// Ensure Marshal reproduces the SPEC sample exactly and lays out the
// optional values and awkward strings as EC2 would.
func TestDocument_Marshal(t *testing.T) {
	full := specDocument()
	full.BillingProducts = []string{"bp-6ba54002"}
	full.MarketplaceProductCodes = []string{"a", "b"}
	full.KernelID = "aki-1"
	full.RamdiskID = "ari-2"
	// A zone offset must not leak into the timestamp.
	full.PendingTime = time.Date(2024, 2, 15, 16, 12, 11, 999, time.FixedZone("x", 7200))

	odd := specDocument()
	odd.InstanceType = "a\"b\\c\n<&>\u00e9\x01"
	odd.DevpayProductCodes = []string{}

	tests := []struct {
		name string
		doc  Document
		want map[int]string // line number -> expected line; nil means whole sample
	}{
		{name: "spec sample", doc: specDocument()},
		{name: "all values", doc: full, want: map[int]string{
			4:  `  "billingProducts" : [ "bp-6ba54002" ],`,
			6:  `  "marketplaceProductCodes" : [ "a", "b" ],`,
			10: `  "kernelId" : "aki-1",`,
			11: `  "pendingTime" : "2024-02-15T14:12:11Z",`,
			13: `  "ramdiskId" : "ari-2",`,
		}},
		{name: "escaped and empty", doc: odd, want: map[int]string{
			5: `  "devpayProductCodes" : null,`,
			9: `  "instanceType" : "a\"b\\c\n<&>` + "\u00e9" + `\u0001",`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tt.doc.Marshal())
			if tt.want == nil {
				if got != specSample {
					t.Fatalf("Marshal() =\n%s\nwant\n%s", got, specSample)
				}
				return
			}
			lines := strings.Split(got, "\n")
			if len(lines) != 17 {
				t.Fatalf("Marshal() has %d lines, want 17:\n%s", len(lines), got)
			}
			for n, line := range tt.want {
				if lines[n] != line {
					t.Errorf("line %d = %q, want %q", n, lines[n], line)
				}
			}
		})
	}
}

// Ensure the marshalled document decodes with encoding/json and with
// aws-sdk-go-v2's typed InstanceIdentityDocument to the values it came from.
func TestDocument_MarshalDecodes(t *testing.T) {
	doc := specDocument()
	doc.BillingProducts = []string{"bp-6ba54002"}
	doc.MarketplaceProductCodes = []string{"x\"y"}
	doc.KernelID = "aki-1"
	raw := doc.Marshal()

	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	if len(generic) != 15 {
		t.Errorf("document has %d keys, want 15", len(generic))
	}
	if v, ok := generic["ramdiskId"]; !ok || v != nil {
		t.Errorf("ramdiskId = %v (present %v), want null", v, ok)
	}

	var got imds.InstanceIdentityDocument
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("decode as go-v2 document: %v", err)
	}
	want := imds.InstanceIdentityDocument{
		AccountID:               doc.AccountID,
		Architecture:            doc.Architecture,
		AvailabilityZone:        doc.AvailabilityZone,
		BillingProducts:         doc.BillingProducts,
		MarketplaceProductCodes: doc.MarketplaceProductCodes,
		ImageID:                 doc.ImageID,
		InstanceID:              doc.InstanceID,
		InstanceType:            doc.InstanceType,
		KernelID:                doc.KernelID,
		PendingTime:             doc.PendingTime,
		PrivateIP:               doc.PrivateIP,
		Region:                  doc.Region,
		Version:                 doc.Version,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("go-v2 document = %+v, want %+v", got, want)
	}
}
