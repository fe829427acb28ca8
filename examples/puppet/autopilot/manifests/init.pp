# What a Puppet run does on every VM of a Dynatrace Managed fleet: make sure the environment of the
# VM's customer and stage exists, then enroll this VM with OneAgent when its agent is missing or
# older than that environment's version. A converged VM costs two cheap `unless` checks.
#
#   include autopilot    # parameters from Hiera (autopilot::temporal_address: ...), or:
#
#   class { 'autopilot':
#     temporal_address  => 'temporal.internal:7233',
#     extra_environment => ['TEMPORAL_TLS=true'],
#   }
#
# The VM's customer and stage come from the facts `autopilot_customer` and `autopilot_stage`
# (facts.d/autopilot.yaml shows the external-fact form), its name and address from facter. The
# parameter is `customer_stage`, not `stage`: that is a metaparameter of every Puppet class.
# The Dynatrace cluster token never reaches the VM: only the Autopilot worker holds it. The VM
# needs the autopilot CLI, the address of Temporal and the deployment's payload (codec) keys.
class autopilot (
  Autopilot::Customer $customer         = $facts['autopilot_customer'],
  Autopilot::Stage $customer_stage      = $facts['autopilot_stage'],
  Autopilot::Hostname $host_name        = $facts['networking']['hostname'],
  Autopilot::Address $address           = $facts['networking']['ip'],
  Autopilot::Path $oneagent_dir         = '/opt/dynatrace/oneagent',
  Optional[Enum['ssh', 'local']] $executor = undef,
  Autopilot::Path $autopilot            = '/opt/dynatrace-autopilot/bin/autopilot',
  String[1] $temporal_address           = 'temporal.example.com:7233',
  String[1] $temporal_namespace         = 'default',
  String[1] $task_queue                 = 'dynatrace-autopilot',
  Autopilot::Path $codec_keys_file      = '/etc/dynatrace-autopilot/codec-keys',
  Array[Pattern[/\A[A-Z_][A-Z0-9_]*=/]] $extra_environment = [],
  Array[Autopilot::Path] $path          = ['/usr/local/bin', '/usr/bin', '/bin'],
  Integer[1] $wait_minutes              = 30,
) {
  # The CLI reads its connection like the worker does; secrets stay in files the VM already has
  # (TEMPORAL_API_KEY_FILE=..., TEMPORAL_TLS_CLIENT_KEY_PATH=... via extra_environment).
  $exec_environment = [
    "TEMPORAL_ADDRESS=${temporal_address}",
    "TEMPORAL_NAMESPACE=${temporal_namespace}",
    "AUTOPILOT_TASK_QUEUE=${task_queue}",
    "AUTOPILOT_CODEC_KEYS_FILE=${codec_keys_file}",
  ] + $extra_environment

  class { 'autopilot::onboarding':
    customer         => $customer,
    customer_stage   => $customer_stage,
    autopilot        => $autopilot,
    exec_environment => $exec_environment,
    path             => $path,
    wait_minutes     => $wait_minutes,
  }
  class { 'autopilot::enrollment':
    customer         => $customer,
    customer_stage   => $customer_stage,
    host_name        => $host_name,
    address          => $address,
    oneagent_dir     => $oneagent_dir,
    executor         => $executor,
    autopilot        => $autopilot,
    exec_environment => $exec_environment,
    path             => $path,
    wait_minutes     => $wait_minutes,
  }
  contain autopilot::onboarding
  contain autopilot::enrollment
}
