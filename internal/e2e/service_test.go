package e2e

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The Kubernetes recipe, as far as the test reads it.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Spec       struct {
		Replicas int `yaml:"replicas"`
		Template struct {
			Spec struct {
				Containers []k8sContainer `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type k8sContainer struct {
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string `yaml:"name"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom []struct {
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
}

type k8sProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

func TestKubernetesRecipe(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "service", "kubernetes.yaml"))
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var deploy *k8sObject
	for {
		var o k8sObject
		if err := dec.Decode(&o); err != nil {
			require.EqualError(t, err, "EOF", "the manifest must parse as YAML")
			break
		}
		if o.Kind == "Deployment" {
			deploy = &o
		}
	}
	require.NotNil(t, deploy, "the manifest has a Deployment")
	assert.Equal(t, "apps/v1", deploy.APIVersion)
	assert.Equal(t, 2, deploy.Spec.Replicas, "two replicas: one active, one standing by")
	require.Len(t, deploy.Spec.Template.Spec.Containers, 1)
	c := deploy.Spec.Template.Spec.Containers[0]

	require.Contains(t, c.Args, "run")
	listen := ""
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "-listen="); ok {
			listen = v
		}
	}
	require.Equal(t, ":9464", listen, "run serves the probes")
	require.Len(t, c.Ports, 1)
	assert.Equal(t, 9464, c.Ports[0].ContainerPort)
	for name, p := range map[string]*k8sProbe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
		require.NotNil(t, p, name)
		require.NotNil(t, p.HTTPGet, name)
		assert.Equal(t, name, p.HTTPGet.Path)
		assert.Equal(t, c.Ports[0].Name, p.HTTPGet.Port, "%s probes the port run listens on", name)
	}

	secrets := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			secrets[e.Name] = e.ValueFrom.SecretKeyRef.Name
		}
	}
	assert.Equal(t, "herald-a1base", secrets["A1BASE_API_KEY"], "the API key comes from a Secret")
	assert.Equal(t, "herald-a1base", secrets["A1BASE_API_SECRET"], "the API secret comes from a Secret")
	var fromSecret []string
	for _, e := range c.EnvFrom {
		if e.SecretRef != nil {
			fromSecret = append(fromSecret, e.SecretRef.Name)
		}
	}
	assert.Equal(t, []string{"herald-postgres"}, fromSecret, "the PostgreSQL connection (PG* variables) comes from a Secret")

	// The arguments are ones herald run accepts.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("provider \"a1base\" {\n  account_id = \"acc\"\n}\n"), 0o644))
	args := append([]string{}, c.Args...)
	for i, a := range args {
		if strings.HasPrefix(a, "-chdir=") {
			args[i] = "-chdir=" + dir
		}
		if strings.HasPrefix(a, "-listen=") {
			args[i] = "-listen=127.0.0.1:0"
		}
	}
	cmd := exec.Command(heraldBin, append(args, "-once", "-sandbox")...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "herald %s:\n%s", strings.Join(args, " "), out)
}

func TestSystemdRecipe(t *testing.T) {
	unit := filepath.Join(repoRoot(t), "examples", "service", "herald-run.service")
	raw, err := os.ReadFile(unit)
	require.NoError(t, err)
	exec0 := ""
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "ExecStart="); ok {
			exec0 = v
		}
	}
	fields := strings.Fields(exec0)
	require.GreaterOrEqual(t, len(fields), 3, "ExecStart=%s", exec0)
	assert.Equal(t, "/usr/local/bin/herald", fields[0])
	assert.Contains(t, fields, "run")
	assert.Contains(t, exec0, "-listen=")

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed, so the unit cannot be verified here")
	}
	// verify checks that ExecStart's program exists: the binary under
	// test stands in for /usr/local/bin/herald.
	dir := t.TempDir()
	local := filepath.Join(dir, "herald-run.service")
	require.NoError(t, os.WriteFile(local, bytes.ReplaceAll(raw, []byte("/usr/local/bin/herald"), []byte(heraldBin)), 0o644))
	out, err := exec.Command(analyze, "verify", local).CombinedOutput()
	require.NoError(t, err, "systemd-analyze verify:\n%s", out)
	assert.NotContains(t, string(out), "herald-run.service:", "verify has something to say about the unit:\n%s", out)
}
