//! Styles, in one place so `NO_COLOR` is honoured everywhere: without colour, emphasis and
//! the selection use modifiers only (bold, reversed), which stay readable on any terminal.

use ratatui::style::{Color, Modifier, Style};

use crate::tui::health::HealthState;

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::default().fg(color)
        } else {
            Style::default()
        }
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn tab_active(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    pub fn table_header(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    pub fn service(self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    pub fn dim(self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default().add_modifier(Modifier::DIM)
        }
    }

    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn spark(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn health(self, state: HealthState) -> Style {
        match state {
            HealthState::Up => self.fg(Color::Green),
            HealthState::Down => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            HealthState::Quiesced | HealthState::Draining => self.fg(Color::Yellow),
            HealthState::Unknown => self.dim(),
        }
    }
}
