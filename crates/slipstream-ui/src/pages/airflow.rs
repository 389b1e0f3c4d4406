//! Links into Airflow 3's UI for runs Airflow ran: the DAG run, a task instance's details and
//! its log (the task instance page opens on its log). The DAG id is the flow's name, as
//! `flow.to_airflow` names it; run ids are Airflow's own.

use super::{query, seg};

pub fn run(base: &str, flow: &str, run: &str) -> String {
    format!(
        "{}/dags/{}/runs/{}",
        base.trim_end_matches('/'),
        seg(flow),
        seg(run)
    )
}

pub fn task(base: &str, flow: &str, run_id: &str, op: &str) -> String {
    format!("{}/tasks/{}/details", run(base, flow, run_id), seg(op))
}

pub fn log(base: &str, flow: &str, run_id: &str, op: &str, try_number: u32) -> String {
    format!(
        "{}/tasks/{}?try_number={}",
        run(base, flow, run_id),
        seg(op),
        query(&try_number.to_string())
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_escaped_into_one_segment() {
        let url = super::log(
            "http://af:8080/",
            "churn",
            "manual__2026-11-24T08:00:00+00:00",
            "a/b",
            2,
        );
        assert_eq!(
            url,
            "http://af:8080/dags/churn/runs/manual__2026-11-24T08%3A00%3A00%2B00%3A00/tasks/a%2Fb?try_number=2"
        );
    }
}
