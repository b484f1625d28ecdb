package config

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/imds-dev/imds"
)

// MaxUserData is EC2's limit on user data, counted after base64 decoding.
const MaxUserData = 16384

// Identifier shapes, as EC2 issues them: a prefix and 8 or 17 hex digits.
var (
	instanceIDRe  = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)
	accountRe     = regexp.MustCompile(`^[0-9]{12}$`)
	reservationRe = resourceID("r")
	amiRe         = resourceID("ami")
	kernelRe      = resourceID("aki")
	ramdiskRe     = resourceID("ari")
	hostRe        = resourceID("h")
	instTypeRe    = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)
	productCodeRe = regexp.MustCompile(`^[a-z0-9]{1,64}$`)
	billingRe     = regexp.MustCompile(`^bp-[0-9a-f]{8}$`)
	regionRe      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	azIDRe        = regexp.MustCompile(`^[a-z]+[0-9]+(-[a-z0-9]+)*$`)
)

func resourceID(prefix string) *regexp.Regexp {
	return regexp.MustCompile(`^` + prefix + `-[0-9a-f]{8}([0-9a-f]{9})?$`)
}

// Validate reports the first problem that would make the instance incoherent
// or impossible on EC2, as a *FieldError naming the field in the config
// file's spelling. The control plane calls it before storing a change, so
// it checks the instance as a whole rather than the file it came from.
func Validate(in *imds.Instance) error {
	checks := []func(*imds.Instance) error{
		checkIdentity, checkImage, checkPlacement, checkInterfaces, checkKeys,
		checkBlockDevices, checkTags, checkIAM, checkUserData, checkOptions, checkEvents,
	}
	for _, check := range checks {
		if err := check(in); err != nil {
			return err
		}
	}
	return nil
}

func checkIdentity(in *imds.Instance) error {
	switch {
	case !instanceIDRe.MatchString(in.ID):
		return fieldErr("id", "%q is not an instance id such as i-0123456789abcdef0", in.ID)
	case !accountRe.MatchString(in.AccountID):
		return fieldErr("account-id", "%q is not 12 digits", in.AccountID)
	case !reservationRe.MatchString(in.ReservationID):
		return fieldErr("reservation-id", "%q is not a reservation id such as r-0123456789abcdef0", in.ReservationID)
	case !instTypeRe.MatchString(in.InstanceType):
		return fieldErr("instance-type", "%q is not an instance type such as m5.large", in.InstanceType)
	case in.LaunchIndex < 0:
		return fieldErr("launch-index", "must not be negative")
	case in.LaunchTime.IsZero():
		return fieldErr("launch-time", "required")
	}
	if err := oneOf("architecture", in.Architecture, "x86_64", "arm64", "i386"); err != nil {
		return err
	}
	if err := oneOf("life-cycle", in.LifeCycle, "on-demand", "spot", "scheduled"); err != nil {
		return err
	}
	if err := oneOf("profile", in.Profile, "default-hvm", "default-paravirtual"); err != nil {
		return err
	}
	if in.State != "" {
		return oneOf("state", in.State, "pending", "running", "stopping", "stopped", "shutting-down", "terminated")
	}
	return nil
}

func checkImage(in *imds.Instance) error {
	switch {
	case !amiRe.MatchString(in.ImageID):
		return fieldErr("ami-id", "%q is not an image id such as ami-0123456789abcdef0", in.ImageID)
	case in.KernelID != "" && !kernelRe.MatchString(in.KernelID):
		return fieldErr("kernel-id", "%q is not a kernel id such as aki-12345678", in.KernelID)
	case in.RamdiskID != "" && !ramdiskRe.MatchString(in.RamdiskID):
		return fieldErr("ramdisk-id", "%q is not a ramdisk id such as ari-12345678", in.RamdiskID)
	case !printable(in.AMIManifestPath):
		return fieldErr("ami-manifest-path", "must be printable text on one line")
	}
	for i, id := range in.AncestorAMIIDs {
		if !amiRe.MatchString(id) {
			return fieldErr(index("ancestor-ami-ids", i), "%q is not an image id", id)
		}
	}
	for i, c := range in.ProductCodes {
		if !productCodeRe.MatchString(c) {
			return fieldErr(index("product-codes", i), "%q is not a product code (lowercase letters and digits)", c)
		}
	}
	for i, b := range in.BillingProducts {
		if !billingRe.MatchString(b) {
			return fieldErr(index("billing-products", i), "%q is not a billing product such as bp-6ba54002", b)
		}
	}
	return nil
}

func checkPlacement(in *imds.Instance) error {
	p := in.Placement
	if !regionRe.MatchString(p.Region) {
		return fieldErr("region", "%q is not a region such as us-east-1", p.Region)
	}
	if !zoneRe.MatchString(p.AvailabilityZone) {
		return fieldErr("availability-zone", "%q is not an availability zone such as us-east-1a", p.AvailabilityZone)
	}
	if regionOf(p.AvailabilityZone) != p.Region {
		return fieldErr("availability-zone", "%q is not in region %q", p.AvailabilityZone, p.Region)
	}
	if id := p.AvailabilityZoneID; id != "" {
		code := regionCode(p.Region)
		if !azIDRe.MatchString(id) || code != "" && !strings.HasPrefix(id, code+"-") {
			return fieldErr("availability-zone-id", "%q is not a zone id of region %q (such as %s-az1)", id, p.Region, code)
		}
	}
	switch {
	case p.PartitionNumber < 0 || p.PartitionNumber > 7:
		return fieldErr("partition-number", "must be 1 to 7 (0 for none), not %d", p.PartitionNumber)
	case p.HostID != "" && !hostRe.MatchString(p.HostID):
		return fieldErr("host-id", "%q is not a dedicated host id such as h-0123456789abcdef0", p.HostID)
	case !printable(p.GroupName) || len(p.GroupName) > 255:
		return fieldErr("placement-group", "must be printable text of at most 255 bytes")
	}
	return nil
}

// checkKeys allows any key type OpenSSH prints, as long as the line has a
// type and a base64 body and at most a final newline; the tree serves it
// byte for byte.
func checkKeys(in *imds.Instance) error {
	for i, k := range in.PublicKeys {
		p := index("public-keys", i)
		switch {
		case k.Name == "":
			return fieldErr(p+".name", "required")
		case !printable(k.Name) || len(k.Name) > 255:
			return fieldErr(p+".name", "must be printable text of at most 255 bytes")
		case !openSSHRe.MatchString(k.OpenSSH):
			return fieldErr(p+".public-key", "must be one OpenSSH public key line such as \"ssh-ed25519 AAAA... comment\"")
		}
	}
	return nil
}

var (
	openSSHRe = regexp.MustCompile(`^(ssh|ecdsa|sk)-[a-z0-9@.-]+ [A-Za-z0-9+/]+={0,2}( [^\r\n]*)?\n?$`)
	virtualRe = regexp.MustCompile(`^(ami|root|swap|ebs[0-9]+|ephemeral[0-9]+)$`)
	deviceRe  = regexp.MustCompile(`^[a-z0-9/]+$`)
)

func checkBlockDevices(in *imds.Instance) error {
	seen := map[string]bool{}
	for _, b := range in.BlockDevices {
		p := join("block-devices", b.Virtual)
		switch {
		case !virtualRe.MatchString(b.Virtual):
			return fieldErr(p, "%q is not a virtual device name (ami, root, swap, ebsN or ephemeralN)", b.Virtual)
		case seen[b.Virtual]:
			return fieldErr(p, "repeated")
		case !deviceRe.MatchString(b.Device):
			return fieldErr(p, "%q is not a device name such as /dev/xvda or sdf", b.Device)
		}
		seen[b.Virtual] = true
	}
	return nil
}

// maxUserTags is EC2's limit of tags per resource; aws: tags do not count.
const maxUserTags = 50

func checkTags(in *imds.Instance) error {
	seen := map[string]bool{}
	user := 0
	for _, t := range in.Tags {
		p := join("tags", t.Key)
		switch {
		case t.Key == "" || utf8.RuneCountInString(t.Key) > 128 || !utf8.ValidString(t.Key):
			return fieldErr(p, "key must be 1 to 128 characters")
		case utf8.RuneCountInString(t.Value) > 256 || !utf8.ValidString(t.Value):
			return fieldErr(p, "value must be at most 256 characters")
		case seen[t.Key]:
			return fieldErr(p, "repeated")
		case in.Options.TagsEnabled() && !tagKeyServable(t.Key):
			return fieldErr(p, "key %q cannot be served while instance-metadata-tags is enabled "+
				"(letters, digits and + - = . , _ : @ only; not \".\", \"..\" or \"_index\")", t.Key)
		}
		seen[t.Key] = true
		if !strings.HasPrefix(t.Key, "aws:") {
			user++
		}
		if user > maxUserTags {
			return fieldErr(p, "more than %d tags", maxUserTags)
		}
	}
	return nil
}

var (
	roleRe       = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	profileARNRe = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):instance-profile/([\x21-\x7e]*/)?[\w+=,.@-]{1,128}$`)
	profileIDRe  = regexp.MustCompile(`^AIPA[A-Z0-9]{17}$`)
	accessKeyRe  = regexp.MustCompile(`^(ASIA|AKIA)[A-Z0-9]{12,124}$`)
)

func checkIAM(in *imds.Instance) error {
	p := in.IAM
	if p == nil {
		return nil
	}
	if !roleRe.MatchString(p.RoleName) {
		return fieldErr("iam.role", "%q is not a role name (1 to 64 of letters, digits and + = , . @ _ -)", p.RoleName)
	}
	m := profileARNRe.FindStringSubmatch(p.ProfileARN)
	switch {
	case m == nil:
		return fieldErr("iam.profile-arn", "%q is not an instance profile ARN such as arn:aws:iam::123456789012:instance-profile/name", p.ProfileARN)
	case m[1] != partition(in.Placement.Region):
		return fieldErr("iam.profile-arn", "partition %q does not match region %q", m[1], in.Placement.Region)
	case m[2] != in.AccountID:
		return fieldErr("iam.profile-arn", "account %s differs from account-id %s", m[2], in.AccountID)
	case !profileIDRe.MatchString(p.ProfileID):
		return fieldErr("iam.profile-id", "%q is not an instance profile id (AIPA and 17 letters or digits)", p.ProfileID)
	}
	if c := p.Static; c != nil {
		switch {
		case !accessKeyRe.MatchString(c.AccessKeyID):
			return fieldErr("iam.credentials.access-key-id", "%q is not an access key id such as ASIAEXAMPLE1234567890", c.AccessKeyID)
		case c.SecretAccessKey == "" || strings.ContainsAny(c.SecretAccessKey, " \t\r\n"):
			return fieldErr("iam.credentials.secret-access-key", "required, without spaces")
		case strings.ContainsAny(c.SessionToken, " \t\r\n"):
			return fieldErr("iam.credentials.session-token", "must not contain spaces")
		}
	}
	return nil
}

func checkUserData(in *imds.Instance) error {
	if len(in.UserData) > MaxUserData {
		return fieldErr("user-data", "%d bytes, more than EC2's %d", len(in.UserData), MaxUserData)
	}
	return nil
}

func checkOptions(in *imds.Instance) error {
	o := in.Options
	const p = "metadata-options."
	if err := oneOf(p+"http-tokens", o.HTTPTokens, imds.TokensOptional, imds.TokensRequired); err != nil {
		return err
	}
	if err := oneOf(p+"http-endpoint", o.HTTPEndpoint, imds.Enabled, imds.Disabled); err != nil {
		return err
	}
	if o.HTTPPutHopLimit < imds.MinHopLimit || o.HTTPPutHopLimit > imds.MaxHopLimit {
		return fieldErr(p+"http-put-response-hop-limit", "must be %d to %d, not %d",
			imds.MinHopLimit, imds.MaxHopLimit, o.HTTPPutHopLimit)
	}
	if err := oneOf(p+"http-protocol-ipv6", o.HTTPProtocolIPv6, imds.Enabled, imds.Disabled); err != nil {
		return err
	}
	return oneOf(p+"instance-metadata-tags", o.InstanceMetadataTags, imds.Enabled, imds.Disabled)
}

// oneOf checks v against the allowed values, spelled exactly.
func oneOf(field, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = `"` + a + `"`
	}
	list := strings.Join(quoted, " or ")
	if len(quoted) > 2 {
		list = strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
	}
	return fieldErr(field, "must be %s, not %q", list, v)
}

// printable reports whether s is one line of printable text.
func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}
