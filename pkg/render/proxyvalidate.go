package render

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

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// errorList reports several problems on one line and keeps them reachable
// with errors.Is/As.
type errorList []error

func (l errorList) Error() string {
	parts := make([]string, len(l))
	for i, err := range l {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "; ")
}

func (l errorList) Unwrap() []error { return l }

// orNil turns an empty list into a nil error.
func (l errorList) orNil() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// withPrefix prefixes each error of err (one, or an errorList) the way
// Istio's multierror.Prefix does: "prefix message".
func withPrefix(prefix string, err error) errorList {
	var list errorList
	if !errors.As(err, &list) {
		list = errorList{err}
	}
	out := make(errorList, len(list))
	for i, e := range list {
		out[i] = fmt.Errorf("%s %w", prefix, e)
	}
	return out
}

// validateProxyConfig applies the checks Istio applies to a ProxyConfig
// (ValidateMeshConfigProxyConfig), with its messages. Warnings are not
// reported.
func validateProxyConfig(pc *meshconfig.ProxyConfig) error {
	var errs errorList
	if pc.GetConfigPath() == "" {
		errs = append(errs, errors.New("config path must be set"))
	}
	if pc.GetBinaryPath() == "" {
		errs = append(errs, errors.New("binary path must be set"))
	}
	switch naming := pc.GetClusterName().(type) {
	case *meshconfig.ProxyConfig_ServiceCluster:
		if naming.ServiceCluster == "" {
			errs = append(errs, errors.New("service cluster must be specified"))
		}
	case *meshconfig.ProxyConfig_TracingServiceName_:
	default:
		errs = append(errs, errors.New("oneof service cluster or tracing service name must be specified"))
	}
	if err := validateDrainDuration(pc.GetDrainDuration()); err != nil {
		errs = append(errs, err...)
	}
	if pc.GetDiscoveryAddress() == "" {
		errs = append(errs, errors.New("discovery address must be set to the proxy discovery service"))
	} else if err := validateProxyAddress(pc.GetDiscoveryAddress()); err != nil {
		errs = append(errs, withPrefix("invalid discovery address:", err)...)
	}

	tracing := pc.GetTracing()
	if ls := tracing.GetLightstep(); ls != nil {
		if err := validateLightstep(ls); err != nil {
			errs = append(errs, withPrefix("invalid lightstep config:", err)...)
		}
	}
	if z := tracing.GetZipkin(); z != nil {
		if err := validateProxyAddress(strings.Replace(z.GetAddress(), "$(HOST_IP)", "127.0.0.1", 1)); err != nil {
			errs = append(errs, withPrefix("invalid zipkin config:", err)...)
		}
	}
	if d := tracing.GetDatadog(); d != nil {
		if err := validateProxyAddress(strings.Replace(d.GetAddress(), "$(HOST_IP)", "127.0.0.1", 1)); err != nil {
			errs = append(errs, withPrefix("invalid datadog config:", err)...)
		}
	}
	if tls := tracing.GetTlsSettings(); tls != nil {
		if err := validateClientTLS(tls); err != nil {
			errs = append(errs, withPrefix("invalid tracing TLS config:", err)...)
		}
	}
	for name, tag := range tracing.GetCustomTags() {
		if tag == nil {
			errs = append(errs, fmt.Errorf("invalid tracing custom tags: encountered nil value for custom tag: %s", name))
			break
		}
	}

	if addr := pc.GetStatsdUdpAddress(); addr != "" {
		if err := validateProxyAddress(addr); err != nil {
			errs = append(errs, withPrefix(fmt.Sprintf("invalid statsd udp address %q:", addr), err)...)
		}
	}
	//nolint:staticcheck // deprecated, but Istio still validates it
	if addr := pc.GetEnvoyMetricsServiceAddress(); addr != "" {
		if err := validateProxyAddress(addr); err != nil {
			errs = append(errs, withPrefix(fmt.Sprintf("invalid envoy metrics service address %q:", addr), err)...)
		}
	}
	if addr := pc.GetEnvoyMetricsService().GetAddress(); addr != "" {
		if err := validateProxyAddress(addr); err != nil {
			errs = append(errs, withPrefix(fmt.Sprintf("invalid envoy metrics service address %q:", addr), err)...)
		}
	}
	if addr := pc.GetEnvoyAccessLogService().GetAddress(); addr != "" {
		if err := validateProxyAddress(addr); err != nil {
			errs = append(errs, withPrefix(fmt.Sprintf("invalid envoy access log service address %q:", addr), err)...)
		}
	}
	if err := validatePortNumber(int(pc.GetProxyAdminPort())); err != nil {
		errs = append(errs, withPrefix("invalid proxy admin port:", err)...)
	}
	switch policy := pc.GetControlPlaneAuthPolicy(); policy {
	case meshconfig.AuthenticationPolicy_NONE, meshconfig.AuthenticationPolicy_MUTUAL_TLS:
	default:
		errs = append(errs, fmt.Errorf("invalid authentication policy: unrecognized control plane auth policy %q", policy))
	}
	if err := validatePortNumber(int(pc.GetStatusPort())); err != nil {
		errs = append(errs, withPrefix("invalid status port:", err)...)
	}
	if pkp := pc.GetPrivateKeyProvider(); pkp != nil {
		if err := validatePrivateKeyProvider(pkp); err != nil {
			errs = append(errs, withPrefix("invalid private key provider configuration:", err)...)
		}
	}
	return errs.orNil()
}

func validateDuration(d *durationpb.Duration) error {
	dur := d.AsDuration()
	if dur < time.Millisecond {
		return errors.New("duration must be greater than 1ms")
	}
	if dur%time.Millisecond != 0 {
		return errors.New("only durations to ms precision are supported")
	}
	return nil
}

func validateDrainDuration(d *durationpb.Duration) errorList {
	if err := validateDuration(d); err != nil {
		return withPrefix("invalid drain duration:", err)
	}
	if d.AsDuration()%time.Second != 0 {
		return errorList{errors.New("drain time only supports durations to seconds precision")}
	}
	return nil
}

func validatePortNumber(port int) error {
	if port >= 1 && port <= 65535 {
		return nil
	}
	return fmt.Errorf("port number %d must be in the range 1..65535", port)
}

// validateProxyAddress checks a host:port, where host is a DNS name or an IP.
func validateProxyAddress(hostPort string) error {
	host, p, err := net.SplitHostPort(hostPort)
	if err != nil {
		return fmt.Errorf("unable to split %q: %w", hostPort, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return fmt.Errorf("port (%s) is not a number: %w", p, err)
	}
	if err := validatePortNumber(port); err != nil {
		return err
	}
	if !config.IsFQDN(host) {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("%q is not a valid hostname or an IP address", host)
		}
	}
	return nil
}

func validateLightstep(ls *meshconfig.Tracing_Lightstep) error {
	var errs errorList
	if ls.GetAddress() == "" {
		errs = append(errs, errors.New("address is required"))
	}
	if err := validateProxyAddress(ls.GetAddress()); err != nil {
		errs = append(errs, withPrefix("invalid lightstep address:", err)...)
	}
	if ls.GetAccessToken() == "" {
		errs = append(errs, errors.New("access token is required"))
	}
	return errs.orNil()
}

// validateClientTLS checks tracing TLS settings like Istio does for a config
// with no namespace. Istio rejects every configmap:// credential there, with
// a message that depends on how the name parses; here always the namespace one.
func validateClientTLS(s *networking.ClientTLSSettings) error {
	var errs errorList
	if strings.HasPrefix(s.GetCredentialName(), "configmap://") {
		errs = append(errs, errors.New(`invalid configmap:// credentialName: namespace must match the configuration namespace ""`))
	}
	simple := s.GetMode() == networking.ClientTLSSettings_SIMPLE
	mutual := s.GetMode() == networking.ClientTLSSettings_MUTUAL
	if s.GetInsecureSkipVerify().GetValue() {
		if simple && (s.GetCaCertificates() != "" || s.GetCredentialName() != "" || s.GetSubjectAltNames() != nil) {
			errs = append(errs, errors.New("cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true"))
		}
		if mutual && (s.GetCaCertificates() != "" || s.GetSubjectAltNames() != nil) {
			errs = append(errs, errors.New("cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true"))
		}
	}
	if (simple || mutual) && s.GetCredentialName() != "" {
		if s.GetClientCertificate() != "" || s.GetCaCertificates() != "" || s.GetPrivateKey() != "" || s.GetCaCrl() != "" {
			errs = append(errs, errors.New("cannot specify client certificates or CA certificate or CA CRL If credentialName is set"))
		}
		return errs.orNil()
	}
	if mutual {
		if s.GetClientCertificate() == "" {
			errs = append(errs, errors.New("client certificate required for mutual tls"))
		}
		if s.GetPrivateKey() == "" {
			errs = append(errs, errors.New("private key required for mutual tls"))
		}
	}
	return errs.orNil()
}

func validatePrivateKeyProvider(pkp *meshconfig.PrivateKeyProvider) error {
	var errs errorList
	checkPollDelay := func(d *durationpb.Duration) {
		switch {
		case d == nil:
			errs = append(errs, errors.New("pollDelay is required"))
		case d.GetSeconds() == 0 && d.GetNanos() == 0:
			errs = append(errs, errors.New("pollDelay must be non zero"))
		}
	}
	if pkp.GetProvider() == nil {
		errs = append(errs, errors.New("private key provider configuration is required"))
	}
	switch pkp.GetProvider().(type) {
	case *meshconfig.PrivateKeyProvider_Cryptomb:
		if c := pkp.GetCryptomb(); c == nil {
			errs = append(errs, errors.New("cryptomb configuration is required"))
		} else {
			checkPollDelay(c.GetPollDelay())
		}
	case *meshconfig.PrivateKeyProvider_Qat:
		if q := pkp.GetQat(); q == nil {
			errs = append(errs, errors.New("qat configuration is required"))
		} else {
			checkPollDelay(q.GetPollDelay())
		}
	default:
		errs = append(errs, errors.New("unknown private key provider"))
	}
	return errs.orNil()
}
