package config

import (
	"reflect"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestItemsRead: Load gives the same configuration, warnings and errors
// from the items ItemsRead keeps as from all of them, under every naming
// of the testdata's --config files, and ItemsRead drops the application
// ConfigMaps.
func TestItemsRead(t *testing.T) {
	usual := []string{"load/items.yaml", "load/items-tag-webhook.yaml", "itemsread/unrelated.yaml"}
	cases := []struct {
		name         string
		extra, items []string
		dropped      []string // names of the items it must drop
		wantErr      bool     // whether Load fails (the same way) on both
	}{
		{name: "no --config", items: usual, dropped: []string{"web-settings", "istiod-dashboard"}},
		{name: "a settings ConfigMap", extra: []string{"load/extra-settings-configmap.yaml"}, items: usual, dropped: []string{"web-settings"}},
		{name: "renamed ConfigMaps", extra: []string{"load/fn-sidecarinjector-renamed.yaml"},
			items: []string{"load/items-renamed.yaml", "load/items.yaml", "itemsread/unrelated.yaml"}, dropped: []string{"web-settings", "istio-sidecar-injector"}},
		{name: "listed revisions", extra: []string{"load/fn-sidecarinjector-revisions.yaml"}, items: usual, dropped: []string{"web-settings"}},
		{name: "another namespace", extra: []string{"load/fn-sidecarinjector-namespace.yaml"}, items: usual, dropped: []string{"web-settings"}, wantErr: true},
		{name: "duplicates", items: []string{"load/items.yaml", "load/items-duplicate.yaml", "itemsread/unrelated.yaml"},
			dropped: []string{"web-settings"}, wantErr: true},
		{name: "no mesh", items: []string{"load/items-no-mesh.yaml", "itemsread/unrelated.yaml"}, dropped: []string{"web-settings"}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var extra, items []*yaml.RNode
			for _, f := range tc.extra {
				extra = append(extra, readNodes(t, f)...)
			}
			for _, f := range tc.items {
				items = append(items, readNodes(t, f)...)
			}
			reads, err := ItemsRead(extra)
			if err != nil {
				t.Fatal(err)
			}
			var kept []*yaml.RNode
			dropped := map[string]bool{}
			for _, n := range items {
				if reads(n) {
					kept = append(kept, n)
				} else {
					dropped[n.GetName()] = true
				}
			}
			for _, name := range tc.dropped {
				if !dropped[name] {
					t.Errorf("kept ConfigMap %q", name)
				}
			}
			for name := range dropped {
				if n := findByName(items, name); n != nil && n.GetKind() != "ConfigMap" {
					t.Errorf("dropped %s %q", n.GetKind(), name)
				}
			}
			all, errAll := Load(Input{Extra: extra, Items: items})
			some, errSome := Load(Input{Extra: extra, Items: kept})
			if (errAll == nil) != (errSome == nil) || (errAll != nil && errAll.Error() != errSome.Error()) {
				t.Fatalf("errors differ:\nall:  %v\nkept: %v", errAll, errSome)
			}
			if (errAll != nil) != tc.wantErr {
				t.Fatalf("Load: %v, want an error: %v", errAll, tc.wantErr)
			}
			if !reflect.DeepEqual(all, some) {
				t.Errorf("configurations differ:\nall:  %+v\nkept: %+v", all, some)
			}
		})
	}
}

func findByName(items []*yaml.RNode, name string) *yaml.RNode {
	for _, n := range items {
		if n.GetName() == name {
			return n
		}
	}
	return nil
}
