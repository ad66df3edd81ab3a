package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	meshconfig "istio.io/api/mesh/v1alpha1"
	networking "istio.io/api/networking/v1alpha3"
)

// validateMeshConfig checks a mesh configuration the way Istio checks one
// before using it. It covers the checks that can reject a configuration
// read from data.mesh: listen port, timeouts, the default proxy config
// (paths, cluster name, drain duration, addresses, ports, auth policy),
// locality load balancing, service settings hosts, trust domains and mesh
// mTLS. Extension providers are not checked (Istio only logs those), nor
// TLS settings of tracers or private key providers.
func validateMeshConfig(mc *meshconfig.MeshConfig) (warnings []string, err error) {
	var errs []error
	add := func(prefix string, e error) {
		if e != nil {
			errs = append(errs, fmt.Errorf("%s: %w", prefix, e))
		}
	}
	add("proxyListenPort", validatePort(int(mc.GetProxyListenPort())))
	add("connectTimeout", validateConnectTimeout(mc.GetConnectTimeout()))
	add("protocolDetectionTimeout", validateProtocolDetectionTimeout(mc.GetProtocolDetectionTimeout()))
	if mc.GetDefaultConfig() == nil {
		errs = append(errs, errors.New("defaultConfig: missing"))
	} else {
		w, e := validateProxyConfig(mc.GetDefaultConfig())
		for _, s := range w {
			warnings = append(warnings, "defaultConfig: "+s)
		}
		add("defaultConfig", e)
	}
	add("localityLbSetting", validateLocality(mc.GetLocalityLbSetting()))
	for i, s := range mc.GetServiceSettings() {
		for _, h := range s.GetHosts() {
			add(fmt.Sprintf("serviceSettings[%d] host %q", i, h), validateWildcardDomain(h))
		}
	}
	add("trustDomain", validateTrustDomain(mc.GetTrustDomain()))
	for i, a := range mc.GetTrustDomainAliases() {
		add(fmt.Sprintf("trustDomainAliases[%d]", i), validateTrustDomain(a))
	}
	if mc.GetMeshMTLS().GetEcdhCurves() != nil {
		errs = append(errs, errors.New("meshMTLS: ECDH curves cannot be configured for mesh TLS"))
	}
	return warnings, errors.Join(errs...)
}

func validateProxyConfig(pc *meshconfig.ProxyConfig) (warnings []string, err error) {
	var errs []error
	add := func(prefix string, e error) {
		if e != nil {
			errs = append(errs, fmt.Errorf("%s: %w", prefix, e))
		}
	}
	if pc.GetConfigPath() == "" {
		errs = append(errs, errors.New("configPath: must be set"))
	}
	if pc.GetBinaryPath() == "" {
		errs = append(errs, errors.New("binaryPath: must be set"))
	}
	switch c := pc.GetClusterName().(type) {
	case *meshconfig.ProxyConfig_ServiceCluster:
		if c.ServiceCluster == "" {
			errs = append(errs, errors.New("serviceCluster: must be set"))
		}
	case *meshconfig.ProxyConfig_TracingServiceName_:
	default:
		errs = append(errs, errors.New("one of serviceCluster or tracingServiceName must be set"))
	}
	add("drainDuration", validateDrainDuration(pc.GetDrainDuration()))
	if pc.GetDiscoveryAddress() == "" {
		errs = append(errs, errors.New("discoveryAddress: must be set"))
	} else {
		add("discoveryAddress", validateProxyAddress(pc.GetDiscoveryAddress()))
	}
	if t := pc.GetTracing(); t != nil {
		if ls := t.GetLightstep(); ls != nil {
			if ls.GetAddress() == "" {
				errs = append(errs, errors.New("tracing.lightstep.address: must be set"))
			} else {
				add("tracing.lightstep.address", validateProxyAddress(ls.GetAddress()))
			}
			if ls.GetAccessToken() == "" {
				errs = append(errs, errors.New("tracing.lightstep.accessToken: must be set"))
			}
		}
		if z := t.GetZipkin(); z != nil {
			add("tracing.zipkin.address", validateProxyAddress(strings.Replace(z.GetAddress(), "$(HOST_IP)", "127.0.0.1", 1)))
		}
		if d := t.GetDatadog(); d != nil {
			add("tracing.datadog.address", validateProxyAddress(strings.Replace(d.GetAddress(), "$(HOST_IP)", "127.0.0.1", 1)))
		}
		for name, tag := range t.GetCustomTags() {
			if tag == nil {
				errs = append(errs, fmt.Errorf("tracing.customTags.%s: no value", name))
			}
		}
	}
	if a := pc.GetStatsdUdpAddress(); a != "" {
		add("statsdUdpAddress", validateProxyAddress(a))
	}
	if a := pc.GetEnvoyMetricsService().GetAddress(); a != "" {
		add("envoyMetricsService.address", validateProxyAddress(a))
	}
	if a := pc.GetEnvoyAccessLogService().GetAddress(); a != "" {
		add("envoyAccessLogService.address", validateProxyAddress(a))
	}
	add("proxyAdminPort", validatePort(int(pc.GetProxyAdminPort())))
	switch pc.GetControlPlaneAuthPolicy() {
	case meshconfig.AuthenticationPolicy_NONE, meshconfig.AuthenticationPolicy_MUTUAL_TLS:
	default:
		errs = append(errs, fmt.Errorf("controlPlaneAuthPolicy: unsupported value %s", pc.GetControlPlaneAuthPolicy()))
	}
	add("statusPort", validatePort(int(pc.GetStatusPort())))
	if _, ok := pc.GetProxyMetadata()["ISTIO_META_DNS_AUTO_ALLOCATE"]; ok {
		warnings = append(warnings, "proxyMetadata.ISTIO_META_DNS_AUTO_ALLOCATE is deprecated (see Istio's DNS auto allocation v2)")
	}
	return warnings, errors.Join(errs...)
}

func validatePort(p int) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("port %d is not in 1..65535", p)
	}
	return nil
}

func validateDuration(d *durationpb.Duration) error {
	v := d.AsDuration()
	if v < time.Millisecond {
		return fmt.Errorf("duration %v must be at least 1ms", v)
	}
	if v%time.Millisecond != 0 {
		return fmt.Errorf("duration %v: only millisecond precision is supported", v)
	}
	return nil
}

func validateDrainDuration(d *durationpb.Duration) error {
	if err := validateDuration(d); err != nil {
		return err
	}
	if d.AsDuration()%time.Second != 0 {
		return fmt.Errorf("duration %v: only second precision is supported", d.AsDuration())
	}
	return nil
}

func validateConnectTimeout(d *durationpb.Duration) error {
	if err := validateDuration(d); err != nil {
		return err
	}
	if v := d.AsDuration(); v > time.Hour {
		return fmt.Errorf("duration %v must be at most 1h", v)
	}
	return nil
}

func validateProtocolDetectionTimeout(d *durationpb.Duration) error {
	if v := d.AsDuration(); v%time.Millisecond != 0 {
		return fmt.Errorf("duration %v: only millisecond precision is supported", v)
	}
	return nil
}

// validateProxyAddress checks host:port, the host a DNS name or an IP.
func validateProxyAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("%q: port %q is not a number", addr, port)
	}
	if err := validatePort(p); err != nil {
		return fmt.Errorf("%q: %w", addr, err)
	}
	if validateFQDN(host) != nil {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("%q: %q is not a valid host name or IP address", addr, host)
		}
	}
	return nil
}

// isDNSLabel reports a DNS-1123 label as Istio checks it (upper case
// allowed): 1-63 letters, digits and '-', not starting or ending with '-'.
func isDNSLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// IsFQDN reports whether name is a domain name as Istio's validation
// takes one: labels of letters of either case, digits and '-', a final
// dot allowed, the top-level domain not all digits.
func IsFQDN(name string) bool { return validateFQDN(name) == nil }

func validateFQDN(name string) error {
	if name == "" {
		return errors.New("empty domain name")
	}
	if len(name) > 255 {
		return fmt.Errorf("domain name %q is longer than 255", name)
	}
	return validateDNSLabels(name)
}

func validateDNSLabels(name string) error {
	parts := strings.Split(name, ".")
	if _, err := strconv.Atoi(parts[len(parts)-1]); err == nil {
		return fmt.Errorf("domain name %q: top level domain cannot be all-numeric", name)
	}
	for i, l := range parts {
		if i == len(parts)-1 && l == "" {
			return nil // "istio.io."
		}
		if !isDNSLabel(l) {
			return fmt.Errorf("domain name %q: invalid label %q", name, l)
		}
	}
	return nil
}

func validateWildcardDomain(name string) error {
	if name == "" {
		return errors.New("empty domain name")
	}
	if len(name) > 255 {
		return fmt.Errorf("domain name %q is longer than 255", name)
	}
	first, rest, hasRest := strings.Cut(name, ".")
	label := first
	if label != "*" {
		label = strings.TrimPrefix(strings.TrimPrefix(label, "*-"), "*")
		if !isDNSLabel(label) {
			return fmt.Errorf("domain name %q: invalid label %q", name, first)
		}
	}
	if hasRest {
		return validateDNSLabels(rest)
	}
	return nil
}

func validateTrustDomain(td string) error {
	if td == "" {
		return errors.New("empty trust domain")
	}
	parts := strings.Split(td, ".")
	for i, l := range parts {
		if i == len(parts)-1 && l == "" {
			return nil
		}
		if !isDNSLabel(l) {
			return fmt.Errorf("trust domain %q is not valid", td)
		}
	}
	return nil
}

func validateLocality(lb *networking.LocalityLoadBalancerSetting) error {
	if lb == nil {
		return nil
	}
	if len(lb.GetDistribute()) > 0 && len(lb.GetFailover()) > 0 {
		return errors.New("distribute and failover cannot both be set")
	}
	if len(lb.GetFailover()) > 0 {
		for _, l := range lb.GetFailoverPriority() {
			switch l {
			case "topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone":
				return fmt.Errorf("failover and the topology label %q in failoverPriority cannot both be set", l)
			}
		}
	}
	for _, d := range lb.GetDistribute() {
		var total uint32
		for _, w := range d.GetTo() {
			if w == 0 || w > 100 {
				return errors.New("distribute: locality weight must be in 1..100")
			}
			total += w
		}
		if total != 100 {
			return fmt.Errorf("distribute: total locality weight %d is not 100", total)
		}
	}
	for _, f := range lb.GetFailover() {
		if f.GetFrom() == f.GetTo() {
			return errors.New("failover: from and to must be different regions")
		}
		if strings.Contains(f.GetFrom(), "/") || strings.Contains(f.GetTo(), "/") {
			return errors.New("failover: only regions can be given")
		}
		if strings.Contains(f.GetFrom(), "*") || strings.Contains(f.GetTo(), "*") {
			return errors.New("failover: regions cannot contain '*'")
		}
	}
	return nil
}
