//! Popups drawn over the current view: help, the confirmation of a kernel write, and the
//! weight editor. Each clears its area first so nothing of the view shows through.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::tui::app::{App, Mode};
use crate::tui::format;
use crate::tui::keymap::HELP;
use crate::tui::view::Theme;

pub fn render(app: &App, theme: Theme, frame: &mut Frame<'_>) {
    match &app.mode {
        Mode::Help => help(theme, frame),
        Mode::Confirm(p) => {
            let lines = vec![
                Line::raw(p.question.clone()),
                Line::raw(""),
                Line::from(vec![
                    Span::styled("[y]", theme.key()),
                    Span::raw(" yes   "),
                    Span::styled("[n]", theme.key()),
                    Span::raw(" no"),
                ]),
            ];
            boxed(frame, " Confirm ", lines, 7);
        }
        Mode::EditWeight {
            service,
            dest,
            input,
        } => {
            let now = app
                .entries()
                .iter()
                .find(|e| e.service.key == *service)
                .and_then(|e| e.dests.iter().find(|d| d.key() == *dest))
                .map_or_else(|| "?".to_owned(), |d| d.weight.to_string());
            let lines = vec![
                Line::raw(format!(
                    "New weight for {} in {} (now {now}):",
                    format::dest_key(service, dest, app.names()),
                    format::service_key(service, app.names())
                )),
                Line::raw(""),
                Line::from(vec![
                    Span::raw("> "),
                    Span::styled(format!("{input}█"), theme.service()),
                ]),
                Line::styled("Enter confirm · Esc cancel · 0 drains", theme.dim()),
            ];
            boxed(frame, " Set weight ", lines, 8);
        }
        Mode::Normal | Mode::Filter => {}
    }
}

fn popup_area(frame: &Frame<'_>, height: u16) -> Rect {
    let area = frame.area();
    let width = area.width.saturating_sub(4).min(70);
    area.centered(
        Constraint::Length(width),
        Constraint::Length(height.min(area.height)),
    )
}

fn boxed(frame: &mut Frame<'_>, title: &str, lines: Vec<Line<'_>>, height: u16) {
    let area = popup_area(frame, height);
    frame.render_widget(Clear, area);
    let p = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(Block::bordered().title(title.to_owned()));
    frame.render_widget(p, area);
}

fn help(theme: Theme, frame: &mut Frame<'_>) {
    let lines: Vec<Line<'_>> = HELP
        .iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(format!("{keys:<15}"), theme.key()),
                Span::raw(*what),
            ])
        })
        .collect();
    let height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    boxed(frame, " Keys (? or Esc closes) ", lines, height);
}
