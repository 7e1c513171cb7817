locals {
  # An example body: what the default schedules send (the target compartment + the target tags).
  example_body = jsonencode({
    compartment_id = local.target_compartment_id
    freeform_tags  = var.target_freeform_tags
  })
}

output "application_id" {
  description = "OCID of the Functions application."
  value       = oci_functions_application.this.id
}

output "application_name" {
  description = "Name of the Functions application (FN_APP for scripts/deploy.sh and scripts/invoke.sh)."
  value       = oci_functions_application.this.display_name
}

output "start_function_id" {
  description = "OCID of start-compute (START_FUNCTION_ID for scripts/invoke.sh)."
  value       = oci_functions_function.this["start"].id
}

output "stop_function_id" {
  description = "OCID of stop-compute (STOP_FUNCTION_ID for scripts/invoke.sh)."
  value       = oci_functions_function.this["stop"].id
}

output "target_instance_ids" {
  description = "OCIDs of the target instances created here (empty when target_instance_count = 0)."
  value       = oci_core_instance.target[*].id
}

output "management_instance_id" {
  description = "OCID of the management instance."
  value       = oci_core_instance.management.id
}

output "management_public_ip" {
  description = "Public IP of the management instance (null without management_assign_public_ip)."
  value       = var.management_assign_public_ip ? oci_core_instance.management.public_ip : null
}

output "management_private_ip" {
  description = "Private IP of the management instance."
  value       = oci_core_instance.management.private_ip
}

output "ssh_command" {
  description = "SSH to the management instance (only from ssh_ingress_cidr)."
  value       = var.ssh_ingress_cidr == null ? "SSH is closed (ssh_ingress_cidr is null)" : "ssh opc@${var.management_assign_public_ip ? oci_core_instance.management.public_ip : oci_core_instance.management.private_ip}"
}

output "fn_registry" {
  description = "Registry for the Fn context: fn update context registry <this>; then scripts/deploy.sh pushes <this>/<function>:<version>."
  value       = local.fn_registry
}

output "fn_invoke_commands" {
  description = "Invoke each function with the Fn CLI (body on standard input)."
  value = {
    for k, f in local.functions : k => "echo '${local.example_body}' | fn invoke ${oci_functions_application.this.display_name} ${f.name}"
  }
}

output "oci_invoke_commands" {
  description = "Invoke each function with the OCI CLI, as the schedules do (add --auth instance_principal on the management instance)."
  value = {
    for k, f in local.functions : k => "oci fn function invoke --function-id ${local.function_ids[k]} --file - --body '${local.example_body}'"
  }
}

output "crontab" {
  description = "The crontab installed for opc on the management instance, rendered from var.schedules."
  value       = local.crontab
}
