package tree

import (
	"sync"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/identity"
)

// buildDynamic renders dynamic/: fws/instance-monitoring and the signed
// instance identity document.
func buildDynamic(b *builder, in *imds.Instance, opt Options) {
	monitoring := "disabled"
	if in.Monitoring {
		monitoring = "enabled"
	}
	b.text("dynamic/fws/instance-monitoring", monitoring)

	doc := Document(in).Marshal()
	b.add("dynamic/instance-identity/document", &Node{ContentType: TextPlain, Body: doc})
	if opt.Sign == nil {
		return
	}

	// Signing is costly and the signatures are rarely read, so all three are
	// made together on the first read of any of them.
	var once sync.Once
	var sigs identity.Signatures
	sign := func() identity.Signatures {
		once.Do(func() {
			s, err := opt.Sign(doc)
			if err == nil {
				sigs = s
			}
		})
		return sigs
	}
	b.add("dynamic/instance-identity/signature", &Node{ContentType: TextPlain, lazy: func() []byte { return sign().Signature }})
	b.add("dynamic/instance-identity/pkcs7", &Node{ContentType: TextPlain, lazy: func() []byte { return sign().PKCS7 }})
	b.add("dynamic/instance-identity/rsa2048", &Node{ContentType: TextPlain, lazy: func() []byte { return sign().RSA2048 }})
}

// Document returns the instance identity document of in. Its values are the
// same ones the meta-data leaves serve.
func Document(in *imds.Instance) identity.Document {
	d := identity.Document{
		AccountID:               in.AccountID,
		Architecture:            orDefault(in.Architecture, "x86_64"),
		AvailabilityZone:        in.Placement.AvailabilityZone,
		BillingProducts:         in.BillingProducts,
		MarketplaceProductCodes: in.ProductCodes,
		ImageID:                 in.ImageID,
		InstanceID:              in.ID,
		InstanceType:            in.InstanceType,
		KernelID:                in.KernelID,
		RamdiskID:               in.RamdiskID,
		PendingTime:             in.LaunchTime,
		Region:                  in.Placement.Region,
		Version:                 "2017-09-30",
	}
	if p := in.Primary(); p != nil && len(p.PrivateIPv4s) > 0 {
		d.PrivateIP = p.PrivateIPv4s[0].String()
	}
	return d
}
