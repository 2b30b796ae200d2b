// Command validate decodes every object of a rendered Helm chart (a YAML
// stream on stdin, as `helm template` prints it) strictly into its Kubernetes
// API Go type: an unknown kind, an unknown or duplicated field, or a value of
// the wrong type fails, naming the object. kubeconform would need its JSON
// schemas from the network; the Go types of k8s.io/api and of the Prometheus
// operator are the same API, compiled in.
//
// It prints one line per object (`ok apps/v1 Deployment memrpc`) and exits 1
// on the first object that does not decode.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The kinds the chart may render, each with a new empty object of its type.
var kinds = map[string]func() any{
	"apps/v1 Deployment":                      func() any { return &appsv1.Deployment{} },
	"v1 Service":                              func() any { return &corev1.Service{} },
	"v1 ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"v1 ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"v1 PersistentVolumeClaim":                func() any { return &corev1.PersistentVolumeClaim{} },
	"policy/v1 PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"monitoring.coreos.com/v1 ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1 PodMonitor":     func() any { return &monitoringv1.PodMonitor{} },
	"monitoring.coreos.com/v1 PrometheusRule": func() any { return &monitoringv1.PrometheusRule{} },
}

// A YAML document separator on a line of its own.
var separator = regexp.MustCompile(`(?m)^---[ \t]*$`)

func main() {
	stream, err := io.ReadAll(bufio.NewReader(os.Stdin))
	if err != nil {
		fail("reading stdin: %v", err)
	}
	count := 0
	for _, doc := range separator.Split(string(stream), -1) {
		if isEmpty(doc) {
			continue
		}
		name, err := validate([]byte(doc))
		if err != nil {
			fail("%s: %v\n%s", name, err, doc)
		}
		fmt.Println("ok", name)
		count++
	}
	if count == 0 {
		fail("no object in the stream")
	}
}

// validate decodes one document strictly and returns its description.
func validate(doc []byte) (string, error) {
	var meta struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        metav1.ObjectMeta `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return "a document", err
	}
	kind := meta.APIVersion + " " + meta.Kind
	name := kind + " " + meta.Metadata.Name
	newObject, known := kinds[kind]
	if !known {
		return name, fmt.Errorf("unknown kind %q: add its Go type to deploy/validate", kind)
	}
	if meta.Metadata.Name == "" {
		return name, fmt.Errorf("no metadata.name")
	}
	return name, yaml.UnmarshalStrict(doc, newObject())
}

// isEmpty says whether a document holds nothing but comments and white space.
func isEmpty(doc string) bool {
	for _, line := range bytes.Split([]byte(doc), []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return false
		}
	}
	return true
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "validate: "+format+"\n", args...)
	os.Exit(1)
}
