#include "ui/forward_dialog.h"

#include <QApplication>
#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QRadioButton>
#include <QShortcut>
#include <QStyle>
#include <QVBoxLayout>

#include <algorithm>

#include "sip/uri.h"
#include "ui/board_model.h"

namespace sb::ui {

namespace {

// RFC 5806's reasons in the order a receptionist reaches for them, each with its key and
// what it tells the person the call goes to.
struct KnownReason {
    const char* token;
    char key;
    const char* meaning;
};

constexpr KnownReason kKnownReasons[] = {
    {"user-busy", 'B', QT_TRANSLATE_NOOP("sb::ui::ForwardDialog", "the person called is busy")},
    {"no-answer", 'N',
     QT_TRANSLATE_NOOP("sb::ui::ForwardDialog", "the person called did not answer")},
    {"unavailable", 'A',
     QT_TRANSLATE_NOOP("sb::ui::ForwardDialog", "the person called cannot be reached")},
    {"unconditional", 'U',
     QT_TRANSLATE_NOOP("sb::ui::ForwardDialog", "all calls to the person go elsewhere")},
    {"deflection", 'D',
     QT_TRANSLATE_NOOP("sb::ui::ForwardDialog", "sent on while it rang (the operator's choice)")},
    {"do-not-disturb", 'O',
     QT_TRANSLATE_NOOP("sb::ui::ForwardDialog", "the person called does not want to be disturbed")},
    {"time-of-day", 'T', QT_TRANSLATE_NOOP("sb::ui::ForwardDialog", "outside the person's hours")},
    {"follow-me", 'F',
     QT_TRANSLATE_NOOP("sb::ui::ForwardDialog", "the person asked for calls to follow them")},
    {"out-of-service", 'S',
     QT_TRANSLATE_NOOP("sb::ui::ForwardDialog", "the line called is out of service")},
    {"away", 'W', QT_TRANSLATE_NOOP("sb::ui::ForwardDialog", "the person called is away")},
    {"unknown", 'K', QT_TRANSLATE_NOOP("sb::ui::ForwardDialog", "no reason given")},
};

const KnownReason* knownReason(const QString& token) {
    for (const KnownReason& known : kKnownReasons)
        if (token == QLatin1String(known.token)) return &known;
    return nullptr;
}

// Qt's key code of a reason key ('B' → Qt::Key_B, '1' → Qt::Key_1).
Qt::Key keyCodeOf(QChar key) {
    return Qt::Key(key.toUpper().unicode());
}

bool uriLike(const QString& text) {
    return text.startsWith(QLatin1String("sip:"), Qt::CaseInsensitive) ||
           text.startsWith(QLatin1String("sips:"), Qt::CaseInsensitive) ||
           text.contains(QLatin1Char('@'));
}

// The checks the server makes of a target URI, made while typing so a mistake shows at
// once. Returns why it is not a SIP URI, empty when it is one.
QString uriProblem(const QString& text) {
    QString uri = text;
    if (!uri.startsWith(QLatin1String("sip"), Qt::CaseInsensitive) ||
        !uri.contains(QLatin1Char(':')))
        uri.prepend(QLatin1String("sip:"));
    const QByteArray bytes = uri.toUtf8();
    for (char c : bytes) {
        if (c <= ' ' || c == '<' || c == '>' || c == '"' || c == 127)
            return ForwardDialog::tr("it contains a space or a character a URI cannot have");
    }
    const Result<sip::Uri> parsed = sip::Uri::parse(bytes);
    if (!parsed) {
        QString reason = parsed.error().reason;
        if (!reason.isEmpty()) reason[0] = reason[0].toLower();
        return reason;
    }
    if (!parsed->isSip()) return ForwardDialog::tr("only sip: and sips: addresses can be called");
    if (parsed->host.isEmpty()) return ForwardDialog::tr("it names no host after the @");
    if (!parsed->headers.isEmpty())
        return ForwardDialog::tr("headers (after “?”) cannot be given here");
    return {};
}

// Whether an extension matches what was typed: its number starts with it, or its name
// or one of the name's words does (case-insensitive), so "an" finds "Anna" and
// "Joan Anders", not "Dan".
bool matches(const board::Extension& extension, const QString& typed) {
    if (typed.isEmpty()) return true;
    if (extension.number.startsWith(typed, Qt::CaseInsensitive)) return true;
    if (extension.name.startsWith(typed, Qt::CaseInsensitive)) return true;
    const QStringList words = extension.name.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    return std::any_of(words.begin(), words.end(), [&](const QString& word) {
        return word.startsWith(typed, Qt::CaseInsensitive);
    });
}

// Errors in a red that reads on the light and the dark palette alike.
QColor problemColour(const QPalette& palette) {
    return palette.color(QPalette::Window).lightness() < 128 ? QColor(0xFF, 0x8A, 0x80)
                                                             : QColor(0xB3, 0x26, 0x1E);
}

}  // namespace

QChar ForwardDialog::keyOf(const QString& reason, const QStringList& reasons) {
    if (const KnownReason* known = knownReason(reason)) return QChar::fromLatin1(known->key);
    int digit = 0;
    for (const QString& other : reasons) {
        if (knownReason(other)) continue;
        ++digit;
        if (other == reason) return digit <= 9 ? QChar(u'0' + digit) : QChar();
    }
    return {};
}

ForwardDialog::ForwardDialog(ForwardCall call, OperatorActions& actions,
                             std::vector<board::Extension> directory, QWidget* parent)
    : QDialog(parent),
      m_call(std::move(call)),
      m_actions(actions),
      m_directory(std::move(directory)),
      m_caller(new QLabel(this)),
      m_ringing(new QLabel(this)),
      m_target(new QLineEdit(this)),
      m_matches(new QListWidget(this)),
      m_targetIcon(new QLabel(this)),
      m_targetNote(new QLabel(this)),
      m_reasonGroup(new QButtonGroup(this)),
      m_privacy(new QComboBox(this)),
      m_historyInfo(new QCheckBox(this)),
      m_messageFrame(new QFrame(this)),
      m_message(new QLabel(m_messageFrame)),
      m_forwardButton(nullptr),
      m_cancelButton(nullptr) {
    setObjectName(QStringLiteral("forwardDialog"));
    setWindowTitle(tr("Forward call"));
    const ForwardDefaults defaults = m_actions.forwardDefaults();

    // Who calls, and for how long it has rung: the operator decides with both in view.
    m_caller->setObjectName(QStringLiteral("forwardCaller"));
    QFont big = font();
    if (big.pointSizeF() > 0) big.setPointSizeF(big.pointSizeF() * 1.25);
    big.setWeight(QFont::DemiBold);
    m_caller->setFont(big);
    m_caller->setText(m_call.caller.isEmpty() ? tr("Unknown caller") : m_call.caller);
    m_caller->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_ringing->setObjectName(QStringLiteral("forwardRinging"));
    // Caller names, typed targets and the server's reasons are shown as they are, never
    // read as markup.
    for (QLabel* label : {m_caller, m_ringing, m_targetNote, m_message})
        label->setTextFormat(Qt::PlainText);

    // The target: type-ahead over the directory, or a number or URI in full.
    m_target->setObjectName(QStringLiteral("forwardTarget"));
    m_target->setPlaceholderText(tr("Name, extension or SIP URI"));
    m_target->setClearButtonEnabled(true);
    m_target->setAccessibleName(tr("Forward to"));
    m_target->installEventFilter(this);
    m_matches->setObjectName(QStringLiteral("forwardMatches"));
    m_matches->setAccessibleName(tr("Matching extensions"));
    m_matches->setUniformItemSizes(true);
    // A steady size: the list neither jumps while typing nor shrinks under a message.
    const int row = m_matches->fontMetrics().height() + 2;
    m_matches->setMinimumHeight(row * 4 + 2 * m_matches->frameWidth());
    m_matches->setMaximumHeight(row * 6 + 2 * m_matches->frameWidth());
    m_matches->installEventFilter(this);
    connect(m_matches, &QListWidget::itemDoubleClicked, this,
            [this](QListWidgetItem* item) { pick(m_matches->row(item)); });
    m_targetIcon->setObjectName(QStringLiteral("forwardTargetIcon"));
    m_targetNote->setObjectName(QStringLiteral("forwardTargetNote"));
    m_targetNote->setWordWrap(true);
    connect(m_target, &QLineEdit::textChanged, this, &ForwardDialog::checkTarget);
    auto* targetBox = new QWidget(this);
    auto* targetLayout = new QVBoxLayout(targetBox);
    targetLayout->setContentsMargins(0, 0, 0, 0);
    targetLayout->setSpacing(3);
    targetLayout->addWidget(m_target);
    targetLayout->addWidget(m_matches);
    auto* noteRow = new QHBoxLayout;
    noteRow->addWidget(m_targetIcon, 0, Qt::AlignTop);
    noteRow->addWidget(m_targetNote, 1);
    targetLayout->addLayout(noteRow);

    auto* reasonBox = new QWidget(this);
    buildReasons(reasonBox);

    m_privacy->setObjectName(QStringLiteral("forwardPrivacy"));
    m_privacy->addItem(defaults.privacy.isEmpty() ? tr("As configured (none)")
                                                  : tr("As configured (%1)").arg(defaults.privacy),
                       QVariant());
    m_privacy->addItem(tr("off — the diverting party may be shown"), QStringLiteral("off"));
    m_privacy->addItem(tr("full — hide the diverting party"), QStringLiteral("full"));
    m_privacy->addItem(tr("name — hide its name"), QStringLiteral("name"));
    m_privacy->addItem(tr("uri — hide its address"), QStringLiteral("uri"));
    m_privacy->setToolTip(tr("The privacy parameter of the Diversion entry (RFC 5806)"));
    m_historyInfo->setObjectName(QStringLiteral("forwardHistoryInfo"));
    m_historyInfo->setText(tr("Add History-Info (RFC 7044)"));
    m_historyInfo->setChecked(defaults.historyInfo);
    m_historyInfo->setToolTip(
        tr("Also record the forward in History-Info, for phones and "
           "servers that read it instead of Diversion"));

    // What went wrong, or that the call stopped ringing: in words, with an icon, tinted.
    m_messageFrame->setObjectName(QStringLiteral("forwardMessage"));
    m_messageFrame->setFrameShape(QFrame::StyledPanel);
    m_messageFrame->setAutoFillBackground(true);
    QPalette tinted = m_messageFrame->palette();
    tinted.setColor(QPalette::Window, QColor(0xFD, 0xEC, 0xEA));
    tinted.setColor(QPalette::WindowText, QColor(0x5F, 0x12, 0x0C));
    m_messageFrame->setPalette(tinted);
    auto* messageIcon = new QLabel(m_messageFrame);
    const int iconSize = style()->pixelMetric(QStyle::PM_SmallIconSize);
    messageIcon->setPixmap(
        style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(iconSize, iconSize));
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->setAccessibleName(tr("Problem"));
    auto* messageLayout = new QHBoxLayout(m_messageFrame);
    messageLayout->addWidget(messageIcon, 0, Qt::AlignTop);
    messageLayout->addWidget(m_message, 1);
    m_messageFrame->hide();

    auto* buttons = new QDialogButtonBox(this);
    m_forwardButton = buttons->addButton(tr("Forward"), QDialogButtonBox::AcceptRole);
    m_forwardButton->setObjectName(QStringLiteral("forwardButton"));
    m_forwardButton->setDefault(true);
    m_forwardButton->setToolTip(tr("Forward the call (Enter)"));
    m_cancelButton = buttons->addButton(QDialogButtonBox::Cancel);
    m_cancelButton->setToolTip(tr("Leave the call ringing where it is (Esc)"));
    m_cancelButton->setAutoDefault(false);
    connect(buttons, &QDialogButtonBox::accepted, this, &ForwardDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &ForwardDialog::reject);

    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->addRow(tr("To:"), targetBox);
    form->addRow(tr("Reason:"), reasonBox);
    form->addRow(tr("Privacy:"), m_privacy);
    form->addRow(QString(), m_historyInfo);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_caller);
    layout->addWidget(m_ringing);
    layout->addSpacing(6);
    layout->addLayout(form);
    layout->addWidget(m_messageFrame);
    layout->addWidget(buttons);

    chooseReason(m_reasons.contains(defaults.reason) ? defaults.reason
                 : m_reasons.isEmpty()               ? QString()
                                                     : m_reasons.constFirst());
    checkTarget();
    updateRinging();
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &ForwardDialog::updateRinging);
    m_tick.start();
    m_target->setFocus(Qt::OtherFocusReason);
    setMinimumWidth(fontMetrics().averageCharWidth() * 72);
}

void ForwardDialog::buildReasons(QWidget* box) {
    // The registered reasons in the order of kKnownReasons, then the administrator's.
    const QStringList offered = m_actions.forwardReasons();
    for (const KnownReason& known : kKnownReasons)
        if (offered.contains(QLatin1String(known.token)))
            m_reasons << QString::fromLatin1(known.token);
    for (const QString& reason : offered)
        if (!m_reasons.contains(reason)) m_reasons << reason;

    auto* grid = new QGridLayout(box);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setHorizontalSpacing(12);
    grid->setVerticalSpacing(2);
    constexpr int kColumns = 3;
    for (int i = 0; i < m_reasons.size(); ++i) {
        const QString& reason = m_reasons.at(i);
        const QChar key = keyOf(reason, m_reasons);
        auto* button =
            new QRadioButton(key.isNull() ? reason : tr("[%1] %2").arg(QString(key), reason), box);
        button->setObjectName(QStringLiteral("reason_") + reason);
        const KnownReason* known = knownReason(reason);
        const QString meaning =
            known ? tr(known->meaning) : tr("a reason your administrator added");
        button->setToolTip(key.isNull() ? meaning
                                        : tr("%1 (%2, or Alt+%2)").arg(meaning, QString(key)));
        m_reasonGroup->addButton(button, i);
        m_reasonButtons << button;
        grid->addWidget(button, i / kColumns, i % kColumns);
        if (!key.isNull()) {
            // Alt+key chooses from anywhere, also while typing the target.
            auto* shortcut = new QShortcut(QKeySequence(Qt::ALT | keyCodeOf(key)), this);
            connect(shortcut, &QShortcut::activated, this,
                    [this, reason] { chooseReason(reason); });
        }
    }
    connect(m_reasonGroup, &QButtonGroup::idToggled, this,
            [this](int, bool) { updateForwardButton(); });
}

QRadioButton* ForwardDialog::reasonButton(const QString& reason) const {
    const int index = int(m_reasons.indexOf(reason));
    return index >= 0 ? m_reasonButtons.at(index) : nullptr;
}

QString ForwardDialog::reason() const {
    const int id = m_reasonGroup->checkedId();
    return id >= 0 && id < m_reasons.size() ? m_reasons.at(id) : QString();
}

void ForwardDialog::chooseReason(const QString& reason) {
    QRadioButton* button = reasonButton(reason);
    if (!button) return;
    button->setChecked(true);
    if (isVisible()) button->setFocus(Qt::ShortcutFocusReason);
    updateForwardButton();
}

bool ForwardDialog::chooseReasonByKey(const QString& key) {
    if (key.size() != 1) return false;
    const QChar typed = key.at(0).toUpper();
    for (const QString& reason : m_reasons) {
        if (keyOf(reason, m_reasons) == typed) {
            chooseReason(reason);
            return true;
        }
    }
    return false;
}

void ForwardDialog::keyPressEvent(QKeyEvent* event) {
    // Keys no field took (the focus is on a reason, a check box, a button): a reason key
    // chooses its reason.
    const auto modifiers = event->modifiers() & ~(Qt::ShiftModifier | Qt::KeypadModifier);
    if (modifiers == Qt::NoModifier && chooseReasonByKey(event->text())) {
        event->accept();
        return;
    }
    QDialog::keyPressEvent(event);
}

bool ForwardDialog::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() != QEvent::KeyPress) return QDialog::eventFilter(watched, event);
    auto* key = static_cast<QKeyEvent*>(event);
    const bool enter = key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter;
    if (watched == m_target) {
        if ((key->key() == Qt::Key_Down || key->key() == Qt::Key_PageDown) &&
            m_matches->count() > 0) {
            m_matches->setFocus(Qt::OtherFocusReason);
            if (m_matches->currentRow() < 0) m_matches->setCurrentRow(0);
            return true;
        }
        // Part of a name: Enter takes the (first) match, as type-ahead does.
        if (enter && m_targetState == Target::Choose && m_matches->count() > 0) {
            pick(std::max(0, m_matches->currentRow()));
            return true;
        }
    } else if (watched == m_matches) {
        if (enter) {
            pick(m_matches->currentRow());
            return true;
        }
        if (key->key() == Qt::Key_Up && m_matches->currentRow() <= 0) {
            m_target->setFocus(Qt::OtherFocusReason);
            return true;
        }
        // Typing goes on in the field: the list is only where the matches are chosen.
        const auto modifiers = key->modifiers() & ~(Qt::ShiftModifier | Qt::KeypadModifier);
        if (key->key() == Qt::Key_Backspace) {
            m_target->setFocus(Qt::OtherFocusReason);
            m_target->backspace();
            return true;
        }
        if (modifiers == Qt::NoModifier && !key->text().isEmpty() && key->text().at(0).isPrint()) {
            m_target->setFocus(Qt::OtherFocusReason);
            m_target->insert(key->text());
            return true;
        }
    }
    return QDialog::eventFilter(watched, event);
}

void ForwardDialog::fillMatches(const QString& text) {
    m_matches->clear();
    for (const board::Extension& extension : m_directory) {
        if (!matches(extension, text)) continue;
        auto* item = new QListWidgetItem(extension.name.isEmpty()
                                             ? extension.number
                                             : tr("%1  %2").arg(extension.number, extension.name),
                                         m_matches);
        item->setData(Qt::UserRole, extension.number);
    }
}

void ForwardDialog::pick(int row) {
    QListWidgetItem* item = m_matches->item(row);
    if (!item) return;
    m_target->setText(item->data(Qt::UserRole).toString());
    // Next comes the reason: its keys work where the focus lands.
    if (QAbstractButton* checked = m_reasonGroup->checkedButton())
        checked->setFocus(Qt::OtherFocusReason);
    else if (!m_reasonButtons.isEmpty())
        m_reasonButtons.constFirst()->setFocus(Qt::OtherFocusReason);
}

void ForwardDialog::checkTarget() {
    const QString text = m_target->text().trimmed();
    m_targetText = text;
    if (uriLike(text))
        m_matches->clear();  // an address, not a name
    else
        fillMatches(text);
    const auto exact = std::find_if(m_directory.begin(), m_directory.end(),
                                    [&](const board::Extension& e) { return e.number == text; });
    QString note;
    if (text.isEmpty()) {
        m_targetState = Target::Empty;
        note = tr("Type a name or number: Down moves into the matches, Enter picks.");
    } else if (uriLike(text)) {
        const QString problem = uriProblem(text);
        m_targetState = problem.isEmpty() ? Target::Uri : Target::Invalid;
        note = problem.isEmpty() ? tr("SIP address %1").arg(text)
                                 : tr("“%1” is not a valid SIP URI: %2").arg(text, problem);
    } else if (exact != m_directory.end()) {
        m_targetState = Target::Extension;
        note = tr("Extension %1").arg(targetLabel(text));
    } else if (m_matches->count() > 0) {
        m_targetState = Target::Choose;
        note = m_matches->count() == 1 ? tr("1 match: Down to choose it, Enter takes it.")
                                       : tr("%n matches: Down to choose, Enter takes the first.",
                                            nullptr, m_matches->count());
    } else if (board::checkExtensionNumber(text)) {
        m_targetState = Target::Outside;
        note = tr("%1 is not in the directory: the server checks that it exists.").arg(text);
    } else {
        m_targetState = Target::Invalid;
        note = tr("Nothing matches “%1”. Type a name, a number, or a SIP URI "
                  "(sip:user@host).")
                   .arg(text);
    }
    m_targetNote->setText(note);
    // Not colour alone: an icon and words say what the colour says.
    QPalette palette = m_targetNote->palette();
    palette.setColor(QPalette::WindowText, m_targetState == Target::Invalid
                                               ? problemColour(this->palette())
                                               : this->palette().color(QPalette::WindowText));
    m_targetNote->setPalette(palette);
    const QStyle::StandardPixmap icon =
        m_targetState == Target::Invalid ? QStyle::SP_MessageBoxWarning
        : m_targetState == Target::Extension || m_targetState == Target::Uri
            ? QStyle::SP_DialogApplyButton
            : QStyle::SP_MessageBoxInformation;
    const int size = style()->pixelMetric(QStyle::PM_SmallIconSize);
    m_targetIcon->setPixmap(style()->standardIcon(icon).pixmap(size, size));
    // A failure shown for an earlier target no longer applies once the target changes.
    if (!m_stopped) m_messageFrame->hide();
    updateForwardButton();
}

QString ForwardDialog::targetMessage() const {
    return m_targetNote->text();
}

QString ForwardDialog::targetLabel(const QString& to) const {
    for (const board::Extension& extension : m_directory)
        if (extension.number == to)
            return extension.name.isEmpty() ? to : tr("%1 %2").arg(to, extension.name);
    return to;
}

QString ForwardDialog::ringingText() const {
    return m_ringing->text();
}

QString ForwardDialog::messageText() const {
    return m_messageFrame->isHidden() ? QString() : m_message->text();
}

void ForwardDialog::showMessage(const QString& text) {
    m_message->setText(text);
    m_messageFrame->show();
    // Grow for the message rather than squeeze the fields (not every window manager
    // enforces the new minimum size).
    if (isVisible()) {
        layout()->activate();
        resize(width(), std::max(height(), sizeHint().height()));
    }
}

void ForwardDialog::updateRinging() {
    if (m_stopped) return;
    const qint64 seconds = m_call.ringingSeconds ? m_call.ringingSeconds() : 0;
    m_ringing->setText(tr("%1 for %2").arg(m_call.where, BoardModel::durationText(seconds)));
}

void ForwardDialog::updateForwardButton() {
    const bool target = m_targetState == Target::Extension || m_targetState == Target::Outside ||
                        m_targetState == Target::Uri;
    m_forwardButton->setEnabled(!m_stopped && target && !reason().isEmpty());
}

ForwardRequest ForwardDialog::request() const {
    ForwardRequest request;
    request.call = m_call.call;
    request.extension = m_call.extension;
    request.to = m_targetText;
    request.reason = reason();
    const QVariant privacy = m_privacy->currentData();
    if (privacy.isValid()) request.privacy = privacy.toString();
    request.historyInfo = m_historyInfo->isChecked();
    return request;
}

void ForwardDialog::callStopped(const QString& why) {
    if (m_stopped) return;
    m_stopped = true;
    m_tick.stop();
    m_ringing->setText(tr("%1 — no longer ringing").arg(m_call.where));
    showMessage(why.isEmpty()
                    ? tr("The call stopped ringing: there is nothing to forward.")
                    : tr("The call stopped ringing (%1): there is nothing to forward.").arg(why));
    m_cancelButton->setText(tr("Close"));
    updateForwardButton();
}

void ForwardDialog::accept() {
    if (!m_forwardButton->isEnabled()) return;
    const ForwardRequest request = this->request();
    const Result<QString> done = m_actions.forward(request);
    if (!done) {
        // Stays open: the operator fixes the target (or the reason) and tries again.
        showMessage(tr("Not forwarded: %1").arg(done.error().reason));
        m_target->setFocus(Qt::OtherFocusReason);
        m_target->selectAll();
        return;
    }
    emit forwarded(tr("Forwarded to %1, %2").arg(targetLabel(request.to), request.reason));
    QDialog::accept();
}

}  // namespace sb::ui
