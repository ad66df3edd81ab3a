package render

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"istio.io/api/annotation"
	meshconfig "istio.io/api/mesh/v1alpha1"
)

// annotationValidators are the pod annotations Istio rejects bad values of
// before rendering, with the check Istio applies to each. The messages
// reproduce Istio's, including its quirks (a bad status port is reported as
// "excludeInboundPorts invalid"), because users and tests match on them.
func annotationValidators() map[string]func(string) error {
	return map[string]func(string) error{
		annotation.SidecarInterceptionMode.Name:                   validateInterceptionMode,
		annotation.SidecarStatusPort.Name:                         validateStatusPort,
		annotation.SidecarStatusReadinessInitialDelaySeconds.Name: validateUint32,
		annotation.SidecarStatusReadinessPeriodSeconds.Name:       validateUint32,
		annotation.SidecarStatusReadinessFailureThreshold.Name:    validateUint32,
		annotation.SidecarTrafficIncludeOutboundIPRanges.Name:     validateIncludeIPRanges,
		annotation.SidecarTrafficExcludeOutboundIPRanges.Name:     validateExcludeIPRanges,
		annotation.SidecarTrafficIncludeInboundPorts.Name:         validateIncludeInboundPorts,
		annotation.SidecarTrafficExcludeInboundPorts.Name:         validateExcludeInboundPorts,
		annotation.SidecarTrafficExcludeOutboundPorts.Name:        validateExcludeOutboundPorts,
		annotation.PrometheusMergeMetrics.Name:                    validateBool,
		annotation.ProxyConfig.Name:                               validateProxyConfigAnnotation,
	}
}

// validateAnnotations checks every annotation Istio validates and reports
// all bad ones, sorted by annotation name so the message is stable.
func validateAnnotations(annotations map[string]string) error {
	validators := annotationValidators()
	names := make([]string, 0, len(annotations))
	for name := range annotations {
		if _, ok := validators[name]; ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var errs errorList
	for _, name := range names {
		value := annotations[name]
		if err := validators[name](value); err != nil {
			errs = append(errs, fmt.Errorf("invalid value '%s' for annotation '%s': %w", value, name, err))
		}
	}
	return errs.orNil()
}

func validateInterceptionMode(mode string) error {
	switch mode {
	case meshconfig.ProxyConfig_REDIRECT.String(), meshconfig.ProxyConfig_TPROXY.String(), "NONE":
		return nil
	}
	return fmt.Errorf("interceptionMode invalid, use REDIRECT,TPROXY,NONE: %v", mode)
}

func validateIncludeIPRanges(ranges string) error {
	if ranges == "*" {
		return nil
	}
	if err := validateCIDRList(ranges); err != nil {
		return fmt.Errorf("includeIPRanges invalid: %w", err)
	}
	return nil
}

func validateExcludeIPRanges(ranges string) error {
	if err := validateCIDRList(ranges); err != nil {
		return fmt.Errorf("excludeIPRanges invalid: %w", err)
	}
	return nil
}

func validateIncludeInboundPorts(ports string) error {
	if ports == "*" {
		return nil
	}
	return validatePortList("includeInboundPorts", ports)
}

func validateExcludeInboundPorts(ports string) error {
	return validatePortList("excludeInboundPorts", ports)
}

func validateExcludeOutboundPorts(ports string) error {
	return validatePortList("excludeOutboundPorts", ports)
}

func validateStatusPort(port string) error {
	if _, err := parsePort(port); err != nil {
		return fmt.Errorf("excludeInboundPorts invalid: %w", err)
	}
	return nil
}

func validateUint32(value string) error {
	_, err := strconv.ParseUint(value, 10, 32)
	return err
}

func validateBool(value string) error {
	_, err := strconv.ParseBool(value)
	return err
}

// validateCIDRList accepts an empty list; entries are not trimmed, as in Istio.
func validateCIDRList(cidrs string) error {
	if cidrs == "" {
		return nil
	}
	for _, cidr := range strings.Split(cidrs, ",") {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			return fmt.Errorf("failed parsing cidr '%s': %w", cidr, err)
		}
	}
	return nil
}

func validatePortList(parameter, ports string) error {
	ports = strings.TrimSpace(ports)
	if ports == "" {
		return nil
	}
	for _, p := range strings.Split(ports, ",") {
		if _, err := parsePort(p); err != nil {
			// Istio wraps the port error twice; kept so messages match.
			return fmt.Errorf("%s invalid: failed parsing port '%s': %w", parameter, p, err)
		}
	}
	return nil
}

func parsePort(s string) (uint16, error) {
	port, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	if err != nil {
		return 0, fmt.Errorf("failed parsing port '%s': %w", s, err)
	}
	return uint16(port), nil
}
