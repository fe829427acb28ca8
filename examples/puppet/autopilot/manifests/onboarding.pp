# Makes sure the Dynatrace environment of this VM's customer and stage exists. Declared by the
# `autopilot` class; declare it yourself only to onboard without enrolling.
#
# Onboarding is idempotent on Autopilot's side too: the workflow id is the environment
# (onboard:<customer>-<stage>), so concurrent Puppet runs on many VMs of one customer attach to the
# one run instead of starting more, and a completed environment is left as it is.
class autopilot::onboarding (
  Autopilot::Customer $customer,
  Autopilot::Stage $customer_stage,
  Autopilot::Path $autopilot,
  Array[String[1]] $exec_environment,
  Array[Autopilot::Path] $path = ['/usr/local/bin', '/usr/bin', '/bin'],
  Integer[1] $wait_minutes     = 30,
) {
  $environment_id = "${customer}-${customer_stage}"

  exec { "autopilot onboard ${environment_id}":
    command     => "${autopilot} onboard --customer ${customer} --stage ${customer_stage} --wait --timeout ${wait_minutes} --json",
    # Converged: the environment's latest onboarding completed; one status call, no change.
    unless      => "${autopilot} status onboard:${environment_id} --json | grep -q '\"status\":\"COMPLETED\"'",
    provider    => shell,
    environment => $exec_environment,
    path        => $path,
    timeout     => ($wait_minutes + 1) * 60,
    logoutput   => true,
  }
}
