# Makes sure the Dynatrace environment of this VM's customer and stage exists before its OneAgent
# is enrolled. Onboarding is idempotent: Autopilot attaches to a run in progress and a completed
# environment is left as it is, so every Puppet run may call this safely.
#
#   include autopilot::onboarding
#
# Facts `autopilot_customer` and `autopilot_stage` come from facts.d/autopilot.yaml (or your CMDB).
class autopilot::onboarding (
  String $customer         = $facts['autopilot_customer'],
  String $stage            = $facts['autopilot_stage'],
  String $autopilot        = '/opt/dynatrace-autopilot/bin/autopilot',
  String $temporal_address = 'temporal.example.com:7233',
  String $task_queue       = 'dynatrace-autopilot',
  Integer $wait_minutes    = 30,
) {
  $environment_id = "${customer}-${stage}"
  $env = [
    "TEMPORAL_ADDRESS=${temporal_address}",
    "AUTOPILOT_TASK_QUEUE=${task_queue}",
  ]

  exec { "autopilot onboard ${environment_id}":
    command     => "${autopilot} onboard --customer ${customer} --stage ${stage} --wait --timeout ${wait_minutes} --json",
    # Already onboarded: nothing to do. (Exit code 3 means a person has to look at it; the run shows why.)
    unless      => "${autopilot} status onboard:${environment_id} --json | grep -q '\"status\":\"COMPLETED\"'",
    environment => $env,
    timeout     => ($wait_minutes + 1) * 60,
    logoutput   => true,
    path        => ['/usr/bin', '/bin'],
  }
}
