package config

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/imds-dev/imds/tree"
)

var (
	// zoneRe accepts a regional zone (us-east-1a), a Local Zone
	// (us-west-2-lax-1a) and a Wavelength Zone (us-east-1-wl1-bos-wlz-1).
	zoneRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+([a-z]|-[a-z]+-[0-9]+[a-z]|-wl[0-9]+-[a-z]+-wlz-[0-9]+)$`)
	// regionPrefixRe finds the region a zone belongs to. Dropping the last
	// letter is wrong for Local Zones (botocore's bug, BL-08).
	regionPrefixRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+`)
)

// regionOf returns the region of a zone name, "" when it has none.
func regionOf(zone string) string { return regionPrefixRe.FindString(zone) }

// directions are the words of region names as zone ids shorten them.
var directions = map[string]string{
	"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
	"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw", "gov": "g",
}

// regionCode returns the short form zone ids start with (use1 for
// us-east-1, apse2 for ap-southeast-2), or "" for a region it cannot shorten.
func regionCode(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) < 3 {
		return ""
	}
	code := parts[0]
	for _, w := range parts[1 : len(parts)-1] {
		d, ok := directions[w]
		if !ok {
			return ""
		}
		code += d
	}
	return code + parts[len(parts)-1]
}

// zoneID derives a zone id for a zone: use1-az1 for us-east-1a,
// usw2-lax1-az1 for us-west-2-lax-1a. Real accounts map letters to ids in
// their own order; this is a coherent stand-in. It returns "" for zones it
// cannot name, which leaves availability-zone-id unserved.
func zoneID(region, zone string) string {
	code := regionCode(region)
	if code == "" || !strings.HasPrefix(zone, region) {
		return ""
	}
	rest := zone[len(region):]
	if len(rest) == 1 {
		return code + "-az" + strconv.Itoa(int(rest[0]-'a')+1)
	}
	// Local Zone: "-lax-1a".
	parts := strings.Split(strings.TrimPrefix(rest, "-"), "-")
	if len(parts) != 2 || len(parts[1]) < 2 {
		return ""
	}
	num, letter := parts[1][:len(parts[1])-1], parts[1][len(parts[1])-1]
	return code + "-" + parts[0] + num + "-az" + strconv.Itoa(int(letter-'a')+1)
}

func partition(region string) string { return tree.Partition(region) }

func tagKeyServable(key string) bool { return tree.TagKeyServable(key) }
