package config

import (
	"strconv"
	"strings"
)

// kubeVersionAtLeast reports whether a Kubernetes version string such as
// "1.33", "v1.34.2" or "1.35+" (GKE/EKS style) is at least major.minor.
// An empty or unparsable version is not known to be recent, so it is false.
func kubeVersionAtLeast(v string, major, minor int) bool {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	maj, err := strconv.Atoi(parts[0])
	if err != nil {
		return false
	}
	minStr := strings.TrimRight(parts[1], "+")
	if i := strings.IndexFunc(minStr, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minStr = minStr[:i]
	}
	mnr, err := strconv.Atoi(minStr)
	if err != nil {
		return false
	}
	return maj > major || (maj == major && mnr >= minor)
}
