//! A mail queue that keeps jobs in memory, for tests and tools that read the emails themselves.

use mail_job::MailJob;
use std::sync::{Arc, Mutex};
use triggers::mail_queue::{MailQueue, QueueError};

#[derive(Clone, Default)]
pub struct MemoryMailQueue(Arc<Mutex<Vec<MailJob>>>);

impl MemoryMailQueue {
    /// Every job enqueued so far, oldest first.
    pub fn jobs(&self) -> Vec<MailJob> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl MailQueue for MemoryMailQueue {
    async fn enqueue(&self, job: &MailJob) -> Result<(), QueueError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(job.clone());
        Ok(())
    }
}
